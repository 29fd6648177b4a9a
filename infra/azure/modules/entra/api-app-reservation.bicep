// Step 1 of the API app registration: create (or find) the application by its uniqueName to learn its appId.
// An application cannot reference its own appId, yet its App ID URI must be api://<appId>; step 2 (api-app.bicep)
// sets that URI and the scope, step 3 (api-app-authorization.bicep) pre-authorizes the page's app for the scope.
// This step sets only names, so re-running it changes nothing.
extension microsoftGraphV1

@description('Immutable, tenant-unique key of the application (the Graph extension upserts by it).')
param uniqueName string

@description('Display name shown in Entra ID.')
param displayName string

@description('Who can sign in: this tenant only, or any Entra tenant.')
param signInAudience string

@description('Object ids that own the registration (the deployer), so it can be updated without directory-wide rights.')
param ownerObjectIds array

resource apiApplication 'Microsoft.Graph/applications@v1.0' = {
  uniqueName: uniqueName
  displayName: displayName
  signInAudience: signInAudience
  owners: {
    relationships: ownerObjectIds
  }
}

output appId string = apiApplication.appId
