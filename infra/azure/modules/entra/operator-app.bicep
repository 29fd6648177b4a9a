// Optional operator client (issue 22, item 7): what `python -m connect_sso_admin doctor --device-code` signs in with.
// An Azure CLI token names the CLI as `azp` (refused: client_app_not_allowed) and the page's SPA registration
// allows no device code flow (no public client flows), so the operator gets a registration of their own: a public
// client (device code, no secret), which only assigned users may use, and which requests the API's JWT.Read scope.
// The API pre-authorizes it (api-app-authorization.bicep) and ALLOWED_CLIENT_APP_IDS lists it only when created.
extension microsoftGraphV1

@description('Immutable, tenant-unique key of the application.')
param uniqueName string

@description('Display name shown in Entra ID.')
param displayName string

@description('Object ids that own the registration (the deployer).')
param ownerObjectIds array

@description('Client id of the API registration.')
param apiClientId string

@description('Id of the API\'s JWT.Read scope.')
param apiScopeId string

resource operatorApplication 'Microsoft.Graph/applications@v1.0' = {
  uniqueName: uniqueName
  displayName: displayName
  // Operators belong to this tenant, whatever the page's audience.
  signInAudience: 'AzureADMyOrg'
  owners: {
    relationships: ownerObjectIds
  }
  // A public client: device code flow allowed, no client secret or certificate can be used to sign in as the app.
  isFallbackPublicClient: true
  publicClient: {
    redirectUris: [
      'http://localhost'
    ]
  }
  requiredResourceAccess: [
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
}

// Assignment required: only the users and groups an administrator assigns can get a token through this client.
resource operatorServicePrincipal 'Microsoft.Graph/servicePrincipals@v1.0' = {
  appId: operatorApplication.appId
  appRoleAssignmentRequired: true
}

output clientId string = operatorApplication.appId
