// The page's app registration: a public SPA client (authorization code + PKCE, no secret, no implicit grant).
extension microsoftGraphV1

@description('Immutable, tenant-unique key of the application.')
param uniqueName string

@description('Display name users see when they sign in.')
param displayName string

@description('Who can sign in: this tenant only, or any Entra tenant.')
param signInAudience string

@description('SPA redirect URIs: the Static Web App, custom domains and the local stack.')
param redirectUris array

@description('Object ids that own the registration (the deployer).')
param ownerObjectIds array

@description('Client id of the API app registration whose JWT.Read scope the page requires; empty: none (an existing API).')
param apiClientId string = ''

@description('Id of the API\'s JWT.Read scope (api-app.bicep output scopeId).')
param apiScopeId string = ''

// Microsoft Graph and its delegated OpenID Connect scopes, which MSAL requests at every sign-in.
var microsoftGraphAppId = '00000003-0000-0000-c000-000000000000'
var openIdScopeId = '37f7f235-527c-4136-accd-4a02d197296e'
var profileScopeId = '14dad69e-099b-42c9-810b-d002981feec1'
var offlineAccessScopeId = '7427e0e9-2fba-42fe-b0c0-848c9e6a8182'

// The page requires the API's scope: with knownClientApplications on the API, consent to the page in another
// tenant then provisions the API there as well (multi-tenant sign-in).
var microsoftGraphAccess = {
  resourceAppId: microsoftGraphAppId
  resourceAccess: [
    {
      id: openIdScopeId
      type: 'Scope'
    }
    {
      id: profileScopeId
      type: 'Scope'
    }
    {
      id: offlineAccessScopeId
      type: 'Scope'
    }
  ]
}
var apiAccess = empty(apiClientId) ? [] : [
  {
    resourceAppId: apiClientId
    resourceAccess: [
      {
        id: apiScopeId
        type: 'Scope'
      }
    ]
  }
]

resource spaApplication 'Microsoft.Graph/applications@v1.0' = {
  uniqueName: uniqueName
  displayName: displayName
  signInAudience: signInAudience
  owners: {
    relationships: ownerObjectIds
  }
  spa: {
    redirectUris: redirectUris
  }
  requiredResourceAccess: concat([ microsoftGraphAccess ], apiAccess)
}

resource spaServicePrincipal 'Microsoft.Graph/servicePrincipals@v1.0' = {
  appId: spaApplication.appId
}

output clientId string = spaApplication.appId
