// connect-sso on Azure: everything `azd up` provisions, from an empty subscription.
// Page (Static Web App) -> contact-token function (Flex Consumption) -> Amazon Connect; Entra ID app registrations
// for both; settings in App Configuration, the widget secret in Key Vault. No key, password or secret in any output.
targetScope = 'subscription'

extension microsoftGraphV1

@minLength(1)
@maxLength(64)
@description('Name of the azd environment; names and tags every resource.')
param environmentName string

@minLength(1)
@description('Azure region for the resources (Flex Consumption must be available there).')
@metadata({
  azd: {
    type: 'location'
  }
})
param location string

@description('Region of the Static Web App control plane (only a few regions host it; content is served globally).')
@allowed([
  'centralus'
  'eastasia'
  'eastus2'
  'westeurope'
  'westus2'
])
param staticWebAppLocation string = 'westeurope'

@description('Amazon Connect widget id: the UUID that is the 4th argument of the snippet wrapper (becomes the JWT sub).')
@minLength(36)
@maxLength(36)
param connectWidgetId string

@description('''Amazon Connect widget security key. Optional: leave empty and set it afterwards with
`az keyvault secret set` (docs/deploy.md). An empty value never overwrites the stored key.''')
@secure()
param connectWidgetSecret string = ''

@description('''Security keys of the further widgets (CONNECT_WIDGETS), by the setting that names each key:
{"CONNECT_WIDGET_SECRET_SALES": "<key>"}. Optional: each goes into Key Vault as connect-widget-secret-<name>, the
secret the postprovision hook's reference points at; a widget left out keeps the key it has (set it with
`az keyvault secret set`, docs/deploy.md). Never in a file, an output or the App Configuration store.''')
@secure()
param connectWidgetSecrets object = {}

@description('Client id of an existing API app registration (exposing api://<client id>/JWT.Read); empty: create it with Microsoft Graph.')
param existingApiClientId string = ''

@description('Client id of an existing SPA app registration; empty: create it with Microsoft Graph.')
param existingSpaClientId string = ''

@description('Who can sign in to the page: this tenant only, or any Entra tenant (then set ENTRA_ALLOWED_TENANT_IDS).')
@allowed([
  'AzureADMyOrg'
  'AzureADMultipleOrgs'
])
param entraSignInAudience string = 'AzureADMyOrg'

@description('''Kind of environment. production: Key Vault purge protection, no local redirect URIs. development: no
purge protection (`azd down --purge` frees the names), local redirect URIs, and cheaper derived defaults (at most 5
instances, none always ready, App Configuration Developer tier, 2 availability-test locations). Both keep deleted
secrets 90 days: Key Vault's retention cannot change once set, so the type can change on an existing environment.''')
@allowed([
  'production'
  'development'
])
param environmentType string = 'production'

@description('Extra https origins that serve the page (custom domains), comma-separated: allowed by CORS and registered as SPA redirect URIs.')
param customWebOrigins string = ''

@description('''SPA redirect URIs of the local development stack, comma-separated (for example http://localhost:5173/,
http://localhost:5173/redirect.html). Registered only when environmentType is development; default none.''')
param localSpaRedirectUris string = ''

@description('''Object id of the person or admin group who sets and rotates the widget key in Key Vault (Key Vault
Secrets Officer). Never the pipeline identity. Empty: nobody gets the role from this deployment.''')
param keyVaultSecretsOfficerId string = ''

@description('Type of keyVaultSecretsOfficerId.')
@allowed([
  'User'
  'Group'
])
param keyVaultSecretsOfficerType string = 'User'

@description('Type of the principal running the deployment (it gets App Configuration Data Owner): a person, or the pipeline.')
@allowed([
  'User'
  'ServicePrincipal'
])
param deployerPrincipalType string = 'User'

@description('Daily ingestion cap of the Log Analytics workspace in GB, as text (-1: no cap; docs/deploy.md, cost).')
param logAnalyticsDailyCapGb string = '1'

@description('''Upper bound of function instances (Flex Consumption; a cost guard), as text: 1 to 1000; empty: 10 in
production, 5 in development (docs/performance.md ties the App Configuration request arithmetic to it).''')
param functionMaximumInstanceCount string = ''

@description('Memory per function instance in MB (Flex Consumption: 512, 2048 or 4096; docs/deploy.md).')
@allowed([
  512
  2048
  4096
])
param functionInstanceMemoryMB int = 2048

@description('Always-ready instances for the HTTP group as text, 0 to 10 (docs/deploy.md: what one costs); empty: 1 in production, 0 in development.')
param functionAlwaysReadyInstances string = ''

@description('''Zone-redundant Flex Consumption plan (instances spread over availability zones, where the region offers
it for Flex). Costs more: docs/deploy.md, "Regions and zones".''')
param functionZoneRedundant bool = false

@description('HTTP requests one function instance takes at once; also the Python worker\'s thread count.')
@minValue(1)
@maxValue(1000)
param functionHttpPerInstanceConcurrency int = 16

@description('Comma-separated e-mail addresses the operations alerts notify; empty: alerts fire without notification.')
param alertEmailAddresses string = ''

@description('''APP_CONFIG_REFRESH_SECONDS of the function as text (seconds between sentinel checks); empty: the function's
default (30). The preprovision check ties it to the maximum instance count and the store's tier (docs/performance.md).''')
param appConfigRefreshSeconds string = ''

@description('APP_CONFIG_SECRET_REFRESH_SECONDS of the function as text (seconds between Key Vault re-reads); empty: the function\'s default (600).')
param appConfigSecretRefreshSeconds string = ''

@description('App Configuration tier: standard, or developer (cheaper, 6,000 requests an hour, no SLA); empty: standard in production, developer in development.')
param appConfigSku string = ''

@description('''Region of an App Configuration replica (Standard tier; the function's provider discovers replicas and fails
over to them); empty: no replica. docs/deploy.md, "Regions and zones".''')
param appConfigReplicaLocation string = ''

@description('''Register an operator client (public client, assignment required, pre-authorized for JWT.Read) so that
`doctor --device-code` can sign in, and accept it in ALLOWED_CLIENT_APP_IDS. Only with an API registration this
deployment manages (docs/operations.md).''')
param operatorClient bool = false

var abbrs = loadJsonContent('abbreviations.json')
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
}
var deployerObjectId = deployer().objectId

var functionAppName = '${abbrs.webSitesFunctions}${resourceToken}'
var deploymentContainerName = 'app-package-${resourceToken}'
var widgetSecretName = 'connect-widget-secret'
var apiScopeName = 'JWT.Read'

var isMultiTenant = entraSignInAudience == 'AzureADMultipleOrgs'
var isProduction = environmentType == 'production'
// Derived defaults (Bicep variables may be declared in any order): development environments cost less.
var maximumInstanceCount = empty(functionMaximumInstanceCount) ? (isProduction ? 10 : 5) : int(functionMaximumInstanceCount)
var alwaysReadyInstances = empty(functionAlwaysReadyInstances) ? (isProduction ? 1 : 0) : int(functionAlwaysReadyInstances)
var appConfigurationSku = empty(appConfigSku) ? (isProduction ? 'standard' : 'developer') : appConfigSku
var createOperatorClient = operatorClient && createApiApp
// Comma-separated parameters: plain strings survive `azd env set` and CI variables on every azd version.
var customOrigins = filter(map(split(customWebOrigins, ','), origin => trim(origin)), origin => !empty(origin))
var requestedLocalRedirectUris = filter(map(split(localSpaRedirectUris, ','), uri => trim(uri)), uri => !empty(uri))
var localRedirectUris = isProduction ? [] : requestedLocalRedirectUris
var createApiApp = empty(existingApiClientId)
var createSpaApp = empty(existingSpaClientId)
var apiAppUniqueName = 'connect-sso-api-${resourceToken}'
var spaAppUniqueName = 'connect-sso-spa-${resourceToken}'

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: '${abbrs.resourcesResourceGroups}${environmentName}'
  location: location
  tags: tags
}

module identity 'modules/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    name: '${abbrs.managedIdentityUserAssignedIdentities}${resourceToken}'
    location: location
    tags: tags
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    logAnalyticsName: '${abbrs.operationalInsightsWorkspaces}${resourceToken}'
    applicationInsightsName: '${abbrs.insightsComponents}${resourceToken}'
    location: location
    tags: tags
    dailyCapGb: int(logAnalyticsDailyCapGb)
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: '${abbrs.storageStorageAccounts}${resourceToken}'
    location: location
    tags: tags
    deploymentContainerName: deploymentContainerName
    functionPrincipalId: identity.outputs.principalId
    logAnalyticsWorkspaceId: monitoring.outputs.logAnalyticsWorkspaceId
  }
}

module keyVault 'modules/key-vault.bicep' = {
  name: 'key-vault'
  scope: rg
  params: {
    name: '${abbrs.keyVaultVaults}${resourceToken}'
    location: location
    tags: tags
    widgetSecretName: widgetSecretName
    widgetSecretValue: connectWidgetSecret
    additionalWidgetSecrets: connectWidgetSecrets
    functionPrincipalId: identity.outputs.principalId
    secretsOfficerPrincipalId: keyVaultSecretsOfficerId
    secretsOfficerPrincipalType: keyVaultSecretsOfficerType
    enablePurgeProtection: isProduction
    // 90 days for both types: retention is immutable once set, purge protection only varies (on, never off again).
    softDeleteRetentionInDays: 90
    deployerPrincipalId: deployerObjectId
    deployerPrincipalType: deployerPrincipalType
    logAnalyticsWorkspaceId: monitoring.outputs.logAnalyticsWorkspaceId
  }
}

module staticWebApp 'modules/static-web-app.bicep' = {
  name: 'static-web-app'
  scope: rg
  params: {
    name: '${abbrs.webStaticSites}${resourceToken}'
    location: staticWebAppLocation
    tags: union(tags, { 'azd-service-name': 'web' })
  }
}

var webOrigins = concat([ 'https://${staticWebApp.outputs.defaultHostname}' ], customOrigins)
// MSAL redirects to the page itself and, from MSAL v5 on, to its redirect bridge page.
// map(), not a for-expression: the Static Web App host name is known only once it exists.
var spaRedirectUris = concat(
  map(webOrigins, origin => '${origin}/'),
  map(webOrigins, origin => '${origin}/redirect.html'),
  localRedirectUris
)

// The API registration in three Graph requests on one uniqueName: reservation (learn the appId), App ID URI and scope,
// then the page's pre-authorization (a pre-authorization may only name a scope that already exists).
module apiAppReservation 'modules/entra/api-app-reservation.bicep' = if (createApiApp) {
  name: 'entra-api-app-reservation'
  scope: rg
  params: {
    uniqueName: apiAppUniqueName
    displayName: 'Contact centre chat API (${environmentName})'
    signInAudience: entraSignInAudience
    ownerObjectIds: [ deployerObjectId ]
  }
}

module apiApp 'modules/entra/api-app.bicep' = if (createApiApp) {
  name: 'entra-api-app'
  scope: rg
  params: {
    uniqueName: apiAppUniqueName
    displayName: 'Contact centre chat API (${environmentName})'
    signInAudience: entraSignInAudience
    appId: apiAppReservation.?outputs.appId ?? ''
    ownerObjectIds: [ deployerObjectId ]
  }
}

var apiClientId = createApiApp ? (apiApp.?outputs.clientId ?? '') : existingApiClientId

module spaApp 'modules/entra/spa-app.bicep' = if (createSpaApp) {
  name: 'entra-spa-app'
  scope: rg
  params: {
    uniqueName: spaAppUniqueName
    displayName: 'Contact centre chat (${environmentName})'
    signInAudience: entraSignInAudience
    redirectUris: spaRedirectUris
    ownerObjectIds: [ deployerObjectId ]
    // The scope id is known only for an API registration this deployment manages (docs/deploy.md).
    apiClientId: createApiApp ? apiClientId : ''
    apiScopeId: apiApp.?outputs.scopeId ?? ''
  }
}

var spaClientId = createSpaApp ? (spaApp.?outputs.clientId ?? '') : existingSpaClientId

module operatorApp 'modules/entra/operator-app.bicep' = if (createOperatorClient) {
  name: 'entra-operator-app'
  scope: rg
  params: {
    uniqueName: 'connect-sso-operator-${resourceToken}'
    displayName: 'Contact centre chat operator tools (${environmentName})'
    ownerObjectIds: [ deployerObjectId ]
    apiClientId: apiClientId
    apiScopeId: apiApp.?outputs.scopeId ?? ''
  }
}

var operatorClientId = createOperatorClient ? (operatorApp.?outputs.clientId ?? '') : ''

module apiAppAuthorization 'modules/entra/api-app-authorization.bicep' = if (createApiApp) {
  name: 'entra-api-app-authorization'
  scope: rg
  params: {
    uniqueName: apiAppUniqueName
    displayName: 'Contact centre chat API (${environmentName})'
    signInAudience: entraSignInAudience
    // Reading step 2's output makes this step wait for it.
    scopeId: apiApp.?outputs.scopeId ?? ''
    spaClientId: spaClientId
    operatorClientId: operatorClientId
  }
}

// What the deployment derives for the function (names: shared/catalogue.py, derived_by_deployment), written to
// App Configuration by the postprovision hook from the APP_CONFIG_SETTINGS output. The operator's optional settings
// do not pass through here: the hook reads them from the azd environment (azd would paste JSON values into
// main.parameters.json as text). The widget secret is not here either: the hook stores it only as a Key Vault
// reference (CONNECT_WIDGET_SECRET_URI).
var functionSettings = {
  // Multi-tenant: the function accepts any tenant listed in ENTRA_ALLOWED_TENANT_IDS.
  ENTRA_TENANT_ID: isMultiTenant ? 'organizations' : tenant().tenantId
  ENTRA_API_CLIENT_ID: apiClientId
  CONNECT_WIDGET_ID: connectWidgetId
  REQUIRED_SCOPES: apiScopeName
  // Only the page's own app (and, when registered, the operator client) may exchange its tokens for contact tokens.
  ALLOWED_CLIENT_APP_IDS: join(filter([ spaClientId, operatorClientId ], id => !empty(id)), ',')
  // Persistent chat's store, reached with the managed identity (used once CONNECT_PERSISTENT_CHAT or a widget's
  // persistentChat turns it on).
  CHAT_HISTORY_ENDPOINT: storage.outputs.tableEndpoint
  CHAT_HISTORY_TABLE: storage.outputs.chatHistoryTableName
}

module appConfiguration 'modules/app-configuration.bicep' = {
  name: 'app-configuration'
  scope: rg
  params: {
    name: '${abbrs.appConfigurationStores}${resourceToken}'
    location: location
    tags: tags
    functionPrincipalId: identity.outputs.principalId
    deployerPrincipalId: deployerObjectId
    deployerPrincipalType: deployerPrincipalType
    logAnalyticsWorkspaceId: monitoring.outputs.logAnalyticsWorkspaceId
    sku: appConfigurationSku
    replicaLocation: appConfigReplicaLocation
  }
}

module functionApp 'modules/function-app.bicep' = {
  name: 'function-app'
  scope: rg
  params: {
    name: functionAppName
    planName: '${abbrs.webServerFarms}${resourceToken}'
    location: location
    tags: tags
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    identityPrincipalId: identity.outputs.principalId
    storageBlobEndpoint: storage.outputs.blobEndpoint
    deploymentContainerName: storage.outputs.deploymentContainerName
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    appConfigEndpoint: appConfiguration.outputs.endpoint
    allowedOrigins: webOrigins
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: functionInstanceMemoryMB
    alwaysReadyInstanceCount: alwaysReadyInstances
    httpPerInstanceConcurrency: functionHttpPerInstanceConcurrency
    zoneRedundant: functionZoneRedundant
    appConfigRefreshSeconds: appConfigRefreshSeconds
    appConfigSecretRefreshSeconds: appConfigSecretRefreshSeconds
  }
}

// Operations (docs/operations.md): availability test on /api/health, alert rules, action group, workbook.
module alerts 'modules/alerts.bicep' = {
  name: 'alerts'
  scope: rg
  params: {
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    functionHostName: functionApp.outputs.defaultHostname
    location: location
    tags: tags
    namePrefix: 'connect-sso-${resourceToken}'
    alertEmailAddresses: alertEmailAddresses
    logAnalyticsWorkspaceId: monitoring.outputs.logAnalyticsWorkspaceId
    availabilityLocationCount: isProduction ? 5 : 2
  }
}

module workbook 'modules/workbook.bicep' = {
  name: 'workbook'
  scope: rg
  params: {
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    location: location
    tags: tags
  }
}

// Outputs become azd environment values: the page's config.json hook and docs/deploy.md read them.
output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output SPA_AUTHORITY string = '${environment().authentication.loginEndpoint}${isMultiTenant ? 'organizations' : tenant().tenantId}'
output ENTRA_API_CLIENT_ID string = apiClientId
output ENTRA_SPA_CLIENT_ID string = spaClientId
// The doctor's --device-code client (empty unless operatorClient): docs/operations.md.
output ENTRA_OPERATOR_CLIENT_ID string = operatorClientId
output ENTRA_API_SCOPE string = 'api://${apiClientId}/${apiScopeName}'
output CONTACT_TOKEN_URL string = 'https://${functionApp.outputs.defaultHostname}/api/AWSConnectJWT'
output STATIC_WEB_APP_URL string = 'https://${staticWebApp.outputs.defaultHostname}'
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name
output AZURE_STATIC_WEB_APP_NAME string = staticWebApp.outputs.name
output AZURE_KEY_VAULT_NAME string = keyVault.outputs.name
output CONNECT_WIDGET_SECRET_NAME string = widgetSecretName
output AZURE_APP_CONFIG_NAME string = appConfiguration.outputs.name
output AZURE_APP_CONFIG_ENDPOINT string = appConfiguration.outputs.endpoint
// Read by the postprovision hook (hooks/write_app_config.py): non-secret settings and where the widget key lives.
output APP_CONFIG_SETTINGS object = functionSettings
output CONNECT_WIDGET_SECRET_URI string = keyVault.outputs.widgetSecretUri
