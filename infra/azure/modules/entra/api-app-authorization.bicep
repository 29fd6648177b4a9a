// Step 3 of the API app registration: the page's app is pre-authorized for JWT.Read (no consent prompt for it) and
// listed as a known client application, so that consenting to the page's app in another tenant also provisions
// this API there (multi-tenant; otherwise AADSTS650052). A separate Graph request after step 2: a
// pre-authorization may only name a scope that already exists. Graph updates `api` member by member, so the scope
// step 2 declared stays as it is; this declaration never re-declares it.
extension microsoftGraphV1

@description('Same uniqueName as in steps 1 and 2: this declaration updates that application.')
param uniqueName string

@description('Display name shown in Entra ID.')
param displayName string

@description('Who can sign in: this tenant only, or any Entra tenant.')
param signInAudience string

@description('Id of the JWT.Read scope that step 2 created (its scopeId output).')
param scopeId string

@description('Client id of the page\'s SPA app registration.')
param spaClientId string

@description('Client id of the optional operator client (operator-app.bicep); empty: none.')
param operatorClientId string = ''

var preAuthorizedClientIds = filter([ spaClientId, operatorClientId ], id => !empty(id))

resource apiApplication 'Microsoft.Graph/applications@v1.0' = {
  uniqueName: uniqueName
  displayName: displayName
  signInAudience: signInAudience
  api: {
    requestedAccessTokenVersion: 2
    knownClientApplications: [
      spaClientId
    ]
    preAuthorizedApplications: [for clientId in preAuthorizedClientIds: {
      appId: clientId
      delegatedPermissionIds: [
        scopeId
      ]
    }]
  }
}

output clientId string = apiApplication.appId
