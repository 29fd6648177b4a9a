// App Configuration store for the function's settings. The key-values themselves (settings, the Key Vault reference
// for the widget secret, the sentinel key) are written by the postprovision hook (hooks/write_app_config.py), with
// retries: ARM would write them seconds after granting the deployer its data role here, before it takes effect.

@description('Name of the App Configuration store.')
param name string

@description('Azure region.')
param location string

@description('Tags applied to the store.')
param tags object

@description('Principal id of the function identity, which gets App Configuration Data Reader.')
param functionPrincipalId string

@description('Object id of the principal running the deployment; gets App Configuration Data Owner so the postprovision hook can write the key-values. Empty: none.')
param deployerPrincipalId string = ''

@description('Type of deployerPrincipalId: a person locally, the pipeline\'s service principal in CI.')
@allowed([
  'User'
  'ServicePrincipal'
])
param deployerPrincipalType string = 'User'

@description('Resource id of the Log Analytics workspace that receives the store\'s audit logs.')
param logAnalyticsWorkspaceId string

@description('Tier: standard (30,000 requests an hour, SLA, replicas) or developer (6,000 an hour, no SLA, cheaper).')
@allowed([
  'standard'
  'developer'
])
param sku string = 'standard'

@description('Region of a replica (standard tier only); empty: none. The function\'s provider discovers it and fails over.')
param replicaLocation string = ''

var appConfigurationDataReaderRoleId = '516239f1-63e1-4d78-a4de-a74fb236a071'
var appConfigurationDataOwnerRoleId = '5ae67dd6-50cb-40e7-96ff-dc2bfa4b606b'

resource store 'Microsoft.AppConfiguration/configurationStores@2024-05-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    // Not free: the free tier has no soft delete and allows one store per subscription.
    name: sku
  }
  properties: {
    disableLocalAuth: true
    // With local auth off, any key-value ARM writes goes with the caller's own identity (never an access key).
    dataPlaneProxy: {
      authenticationMode: 'Pass-through'
      privateLinkDelegation: 'Disabled'
    }
    publicNetworkAccess: 'Enabled'
    // A deleted store keeps its name for 7 days: `azd down --purge` (or `az appconfig purge`) frees it at once.
    softDeleteRetentionInDays: 7
    enablePurgeProtection: false
  }
}

// A replica serves reads when the store's region fails; writes (the hook, settings changes) still need the origin.
resource replica 'Microsoft.AppConfiguration/configurationStores/replicas@2024-05-01' = if (!empty(replicaLocation) && sku == 'standard') {
  parent: store
  name: replace(replicaLocation, '-', '')
  location: replicaLocation
}

resource functionDataReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(store.id, functionPrincipalId, appConfigurationDataReaderRoleId)
  scope: store
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', appConfigurationDataReaderRoleId)
    principalId: functionPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource deployerDataOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(deployerPrincipalId)) {
  name: guid(store.id, deployerPrincipalId, appConfigurationDataOwnerRoleId)
  scope: store
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', appConfigurationDataOwnerRoleId)
    principalId: deployerPrincipalId
    principalType: deployerPrincipalType
  }
}

// Who changed which setting: write and delete audit logs go to the workspace.
resource auditLogs 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'audit-to-log-analytics'
  scope: store
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: [
      {
        categoryGroup: 'audit'
        enabled: true
      }
    ]
  }
}

output name string = store.name
output endpoint string = store.properties.endpoint
