// The contact-token function: Flex Consumption, Python 3.11 on Linux, user-assigned identity for everything it reaches.
// App settings hold no secret: storage, telemetry and settings are all reached with the managed identity.

@description('Name of the function app.')
param name string

@description('Name of the Flex Consumption plan.')
param planName string

@description('Azure region.')
param location string

@description('Tags applied to the plan and the app (the app adds azd-service-name).')
param tags object

@description('azd service name of the function (azure.yaml).')
param serviceName string = 'api'

@description('Resource id of the user-assigned managed identity.')
param identityId string

@description('Client id of the user-assigned managed identity (AZURE_CLIENT_ID for DefaultAzureCredential).')
param identityClientId string

@description('Principal id of the user-assigned managed identity (Monitoring Metrics Publisher on Application Insights).')
param identityPrincipalId string

@description('Blob endpoint of the storage account used by the Functions host and for the deployment package.')
param storageBlobEndpoint string

@description('Blob container that holds the deployment package.')
param deploymentContainerName string

@description('Name of the Application Insights component.')
param applicationInsightsName string

@description('Endpoint of the App Configuration store the function reads its settings from.')
param appConfigEndpoint string

@description('Browser origins allowed to call the function (the Static Web App and any custom domains), https only.')
param allowedOrigins array

@description('Upper bound of Flex Consumption instances (a cost guard; the platform allows 1 to 1000; always-ready ones do not count).')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 10

@description('Memory per instance in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Always-ready instances for the HTTP group: 1 keeps the first chat after an idle period off a cold start (docs/deploy.md).')
@minValue(0)
@maxValue(10)
param alwaysReadyInstanceCount int = 1

@description('HTTP requests one instance takes at once (Python default 1); the worker gets as many threads (docs/deploy.md).')
@minValue(1)
@maxValue(1000)
param httpPerInstanceConcurrency int = 16

@description('Spread the plan\'s instances over availability zones (where the region offers it for Flex; costs more).')
param zoneRedundant bool = false

@description('APP_CONFIG_REFRESH_SECONDS as text; empty: the function\'s default.')
param appConfigRefreshSeconds string = ''

@description('APP_CONFIG_SECRET_REFRESH_SECONDS as text; empty: the function\'s default.')
param appConfigSecretRefreshSeconds string = ''

// The provider's intervals are app settings, not App Configuration keys: they govern how that store is read.
var refreshSettings = concat(
  empty(appConfigRefreshSeconds) ? [] : [ { name: 'APP_CONFIG_REFRESH_SECONDS', value: appConfigRefreshSeconds } ],
  empty(appConfigSecretRefreshSeconds) ? [] : [ { name: 'APP_CONFIG_SECRET_REFRESH_SECONDS', value: appConfigSecretRefreshSeconds } ]
)

// Monitoring Metrics Publisher: send telemetry to Application Insights with an Entra token (local auth is off).
var monitoringMetricsPublisherRoleId = '3913510d-42f4-4e42-8a64-420c390055eb'

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
    zoneRedundant: zoneRedundant
  }
}

resource functionApp 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': serviceName })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    clientCertEnabled: false
    keyVaultReferenceIdentity: identityId
    publicNetworkAccess: 'Enabled'
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storageBlobEndpoint}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        alwaysReady: [
          {
            name: 'http'
            instanceCount: alwaysReadyInstanceCount
          }
        ]
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
        triggers: {
          http: {
            perInstanceConcurrency: httpPerInstanceConcurrency
          }
        }
      }
      runtime: {
        name: 'python'
        version: '3.11'
      }
    }
    siteConfig: {
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
      cors: {
        allowedOrigins: allowedOrigins
        supportCredentials: false
      }
      appSettings: concat([
        // Identity-based host storage: no connection string, no account key.
        {
          name: 'AzureWebJobsStorage__credential'
          value: 'managedidentity'
        }
        {
          name: 'AzureWebJobsStorage__clientId'
          value: identityClientId
        }
        {
          name: 'AzureWebJobsStorage__blobServiceUri'
          value: storageBlobEndpoint
        }
        {
          name: 'APPLICATIONINSIGHTS_CONNECTION_STRING'
          value: applicationInsights.properties.ConnectionString
        }
        {
          name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING'
          value: 'ClientId=${identityClientId};Authorization=AAD'
        }
        // host.json telemetryMode OpenTelemetry: the Python worker configures the Azure Monitor exporter itself.
        {
          name: 'PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY'
          value: 'true'
        }
        // Everything else (Entra ids, widget id, the widget secret reference) lives in App Configuration.
        {
          name: 'APP_CONFIG_ENDPOINT'
          value: appConfigEndpoint
        }
        // The synchronous function runs on the Python worker's thread pool: one thread per concurrent request.
        {
          name: 'PYTHON_THREADPOOL_THREAD_COUNT'
          value: string(httpPerInstanceConcurrency)
        }
        // DefaultAzureCredential picks this user-assigned identity.
        {
          name: 'AZURE_CLIENT_ID'
          value: identityClientId
        }
      ], refreshSettings)
    }
  }
}

// Deployments go through Entra-authenticated endpoints only: no FTP or Kudu basic-auth publishing credentials.
resource ftpPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: functionApp
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource scmPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: functionApp
  name: 'scm'
  properties: {
    allow: false
  }
}

resource metricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(applicationInsights.id, identityPrincipalId, monitoringMetricsPublisherRoleId)
  scope: applicationInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', monitoringMetricsPublisherRoleId)
    principalId: identityPrincipalId
    principalType: 'ServicePrincipal'
  }
}

output name string = functionApp.name
output defaultHostname string = functionApp.properties.defaultHostName
