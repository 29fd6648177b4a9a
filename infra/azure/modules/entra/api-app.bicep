// Step 2 of the API app registration: the protected web API the page asks a token for.
// App ID URI api://<appId>, one delegated scope (JWT.Read) and v2.0 access tokens (aud = client id). The page's app
// is pre-authorized in step 3 (api-app-authorization.bicep), in a separate Graph request: Graph refuses a
// pre-authorization that names a scope created in the same request (microsoftgraph/microsoft-graph-docs#20177).
extension microsoftGraphV1

@description('Same uniqueName as in step 1 (api-app-reservation.bicep): this declaration updates that application.')
param uniqueName string

@description('Display name shown in Entra ID.')
param displayName string

@description('Who can sign in: this tenant only, or any Entra tenant.')
param signInAudience string

@description('The appId that step 1 returned.')
param appId string

@description('Object ids that own the registration (the deployer).')
param ownerObjectIds array

var scopeName = 'JWT.Read'
// Stable across deployments: step 3's pre-authorization, the page's required access and granted consent refer to
// the scope by this id.
var scopeId = guid(uniqueName, scopeName)

resource apiApplication 'Microsoft.Graph/applications@v1.0' = {
  uniqueName: uniqueName
  displayName: displayName
  signInAudience: signInAudience
  owners: {
    relationships: ownerObjectIds
  }
  identifierUris: [
    'api://${appId}'
  ]
  api: {
    // v2.0 tokens: iss https://login.microsoftonline.com/<tid>/v2.0 and aud = the client id (field notes, section 2).
    requestedAccessTokenVersion: 2
    oauth2PermissionScopes: [
      {
        id: scopeId
        value: scopeName
        type: 'User'
        isEnabled: true
        adminConsentDisplayName: 'Start an Amazon Connect chat as the signed-in user'
        adminConsentDescription: 'Lets the chat page obtain a signed Amazon Connect contact token that carries the signed-in user\'s name.'
        userConsentDisplayName: 'Start a chat as you'
        userConsentDescription: 'Lets the chat page tell the contact centre who you are.'
      }
    ]
  }
}

// Tokens are issued for an API only when it has a service principal in the tenant.
resource apiServicePrincipal 'Microsoft.Graph/servicePrincipals@v1.0' = {
  appId: apiApplication.appId
}

output clientId string = apiApplication.appId
output scope string = 'api://${apiApplication.appId}/${scopeName}'
output scopeId string = scopeId
