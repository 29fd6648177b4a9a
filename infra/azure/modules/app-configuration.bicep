// App Configuration store with the function's non-secret settings and a Key Vault reference for the widget secret.
// Local (access key) auth is off; ARM writes the key-values with the deployer's own Entra identity (pass-through).

@description('Name of the App Configuration store.')
param name string

@description('Azure region.')
param location string

@description('Tags applied to the store.')
param tags object

@description('Non-secret function settings: key = setting name the function reads, value = its value. Empty values are skipped.')
param settings object

@description('Setting name under which the function finds the widget secret (as a Key Vault reference).')
param widgetSecretSettingName string

@description('Versionless URI of the Key Vault secret that holds the widget security key.')
param widgetSecretUri string

@description('Principal id of the function identity, which gets App Configuration Data Reader.')
param functionPrincipalId string

@description('Object id of the principal running the deployment; gets App Configuration Data Owner so ARM can write the key-values with its identity. Empty: none.')
param deployerPrincipalId string = ''

var appConfigurationDataReaderRoleId = '516239f1-63e1-4d78-a4de-a74fb236a071'
var appConfigurationDataOwnerRoleId = '5ae67dd6-50cb-40e7-96ff-dc2bfa4b606b'
var keyVaultReferenceContentType = 'application/vnd.microsoft.appconfig.keyvaultref+json;charset=utf-8'

resource store 'Microsoft.AppConfiguration/configurationStores@2024-05-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    // Standard: the free tier has no soft delete and allows one store per subscription.
    name: 'standard'
  }
  properties: {
    disableLocalAuth: true
    // With local auth off, ARM can only write key-values on the caller's behalf (needs a data-plane role).
    dataPlaneProxy: {
      authenticationMode: 'Pass-through'
      privateLinkDelegation: 'Disabled'
    }
    publicNetworkAccess: 'Enabled'
    softDeleteRetentionInDays: 7
    enablePurgeProtection: false
  }
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
  }
}

// Unset optional settings are left out, so the function applies its own defaults.
var settingsToWrite = filter(items(settings), setting => !empty(setting.value))

// Keys carry no label: the function reads label-less keys (or APP_CONFIG_LABEL, which this deployment leaves unset).
resource settingValues 'Microsoft.AppConfiguration/configurationStores/keyValues@2024-05-01' = [
  for setting in settingsToWrite: {
    parent: store
    name: setting.key
    properties: {
      value: setting.value
      contentType: 'text/plain'
    }
    dependsOn: [
      deployerDataOwner
    ]
  }
]

// The only place the widget secret is named: a reference the function resolves with its own identity.
resource widgetSecretReference 'Microsoft.AppConfiguration/configurationStores/keyValues@2024-05-01' = {
  parent: store
  name: widgetSecretSettingName
  properties: {
    value: string({ uri: widgetSecretUri })
    contentType: keyVaultReferenceContentType
  }
  dependsOn: [
    deployerDataOwner
  ]
}

output name string = store.name
output endpoint string = store.properties.endpoint
