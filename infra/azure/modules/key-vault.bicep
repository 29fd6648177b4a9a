// Key Vault holding the Amazon Connect widget security key (the HS256 signing secret).
// RBAC mode (no access policies), soft delete (purge protection in production), a read-only role for the function,
// set/rotate rights for a person or an admin group only, and audit logs to Log Analytics.

@description('Name of the vault (3-24 characters).')
@minLength(3)
@maxLength(24)
param name string

@description('Azure region.')
param location string

@description('Tags applied to the vault.')
param tags object

@description('Name of the secret that holds the widget security key.')
param widgetSecretName string

@description('''The widget security key from Amazon Connect. Leave empty to set it afterwards with the documented
`az keyvault secret set` command (docs/deploy.md); an empty value never overwrites an existing secret.''')
@secure()
param widgetSecretValue string = ''

@description('''Keys of the further widgets by setting name (CONNECT_WIDGET_SECRET_<NAME>); each is stored as
connect-widget-secret-<name> (lower case, `_` as `-`), as infra/azure/hooks/write_app_config.py references it.''')
@secure()
param additionalWidgetSecrets object = {}

@description('Principal id of the function identity, which gets Key Vault Secrets User (read secret values only).')
param functionPrincipalId string

@description('''Object id of the person or admin group that sets and rotates the widget key (Key Vault Secrets
Officer, which can also read it). Never the pipeline identity: any workflow on main could then read the key. Empty: none.''')
param secretsOfficerPrincipalId string = ''

@description('Type of secretsOfficerPrincipalId; a service principal is not offered on purpose.')
@allowed([
  'User'
  'Group'
])
param secretsOfficerPrincipalType string = 'User'

@description('''Purge protection: a deleted vault keeps its name for the whole retention period and cannot be purged.
On for production; off for development, so `azd down --purge` frees the name at once.''')
param enablePurgeProtection bool = true

@description('Days a deleted vault or secret stays recoverable (with purge protection, its name stays taken that long).')
@minValue(7)
@maxValue(90)
param softDeleteRetentionInDays int = 90

@description('''Object id of the principal running the deployment: Key Vault Reader, so that the postprovision hook can
list secret NAMES (never values) and refuse a reference to a missing secret. Empty: none.''')
param deployerPrincipalId string = ''

@description('Type of deployerPrincipalId.')
@allowed([
  'User'
  'ServicePrincipal'
])
param deployerPrincipalType string = 'User'

@description('Resource id of the Log Analytics workspace that receives the vault\'s audit logs.')
param logAnalyticsWorkspaceId string

var keyVaultSecretsUserRoleId = '4633458b-17de-408a-b874-0445c86b69e6'
var keyVaultSecretsOfficerRoleId = 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7'
var keyVaultReaderRoleId = '21090545-7ca7-4776-b22c-e363652d74d2'

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: tenant().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    // `false` is refused by Key Vault (purge protection is irreversible): off means the property is absent.
    enablePurgeProtection: enablePurgeProtection ? true : null
    softDeleteRetentionInDays: softDeleteRetentionInDays
    // Flex Consumption without a virtual network reaches the vault over its public endpoint; access is RBAC-only.
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
  }
}

resource widgetSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(widgetSecretValue)) {
  parent: vault
  name: widgetSecretName
  properties: {
    value: widgetSecretValue
    contentType: 'text/plain'
  }
}

// CONNECT_WIDGET_SECRET_ is 22 characters: what follows names the widget's secret (leave a widget out to keep its key).
resource additionalWidgetSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = [
  for entry in items(additionalWidgetSecrets): {
    parent: vault
    name: 'connect-widget-secret-${toLower(replace(substring(entry.key, 22), '_', '-'))}'
    properties: {
      value: entry.value
      contentType: 'text/plain'
    }
  }
]

// Scoped to the vault, not the secret: the secret may be created after provisioning, and this vault holds nothing else.
resource functionSecretsUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, functionPrincipalId, keyVaultSecretsUserRoleId)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsUserRoleId)
    principalId: functionPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource secretsOfficer 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(secretsOfficerPrincipalId)) {
  name: guid(vault.id, secretsOfficerPrincipalId, keyVaultSecretsOfficerRoleId)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsOfficerRoleId)
    principalId: secretsOfficerPrincipalId
    principalType: secretsOfficerPrincipalType
  }
}

resource deployerReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(deployerPrincipalId)) {
  name: guid(vault.id, deployerPrincipalId, keyVaultReaderRoleId)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultReaderRoleId)
    principalId: deployerPrincipalId
    principalType: deployerPrincipalType
  }
}

// Who read or changed the widget key, and when: every data-plane call (AuditEvent) goes to the workspace.
resource auditLogs 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'audit-to-log-analytics'
  scope: vault
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

output name string = vault.name
// Versionless secret URI: a new secret version (key rotation) is picked up without redeploying.
output widgetSecretUri string = '${vault.properties.vaultUri}secrets/${widgetSecretName}'
