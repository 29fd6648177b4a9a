// Key Vault holding the Amazon Connect widget security key (the HS256 signing secret).
// RBAC mode (no access policies), soft delete with purge protection, and a read-only role for the function.

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

@description('Principal id of the function identity, which gets Key Vault Secrets User (read secret values only).')
param functionPrincipalId string

@description('Object id of the principal running the deployment; gets Key Vault Secrets Officer to set and rotate the key. Empty: none.')
param deployerPrincipalId string = ''

@description('Days a deleted vault or secret stays recoverable (purge protection keeps it for this long).')
@minValue(7)
@maxValue(90)
param softDeleteRetentionInDays int = 90

var keyVaultSecretsUserRoleId = '4633458b-17de-408a-b874-0445c86b69e6'
var keyVaultSecretsOfficerRoleId = 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7'

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
    enablePurgeProtection: true
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

resource deployerSecretsOfficer 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(deployerPrincipalId)) {
  name: guid(vault.id, deployerPrincipalId, keyVaultSecretsOfficerRoleId)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsOfficerRoleId)
    principalId: deployerPrincipalId
  }
}

output name string = vault.name
// Versionless secret URI: a new secret version (key rotation) is picked up without redeploying.
output widgetSecretUri string = '${vault.properties.vaultUri}secrets/${widgetSecretName}'
