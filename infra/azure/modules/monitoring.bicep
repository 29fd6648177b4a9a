// Log Analytics workspace and workspace-based Application Insights, both with local (key-based) auth off:
// telemetry is accepted only from Entra identities (the function's managed identity).

@description('Name of the Log Analytics workspace.')
param logAnalyticsName string

@description('Name of the Application Insights component.')
param applicationInsightsName string

@description('Azure region.')
param location string

@description('Tags applied to both resources.')
param tags object

@description('Days the workspace keeps logs.')
@minValue(30)
@maxValue(730)
param retentionInDays int = 30

@description('''Daily ingestion cap of the workspace in GB (-1: no cap). Ingestion is billed per GB; when the cap is
reached, the workspace stops collecting until the next day (docs/deploy.md, cost).''')
param dailyCapGb int = 1

resource logAnalytics 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: logAnalyticsName
  location: location
  tags: tags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: retentionInDays
    workspaceCapping: {
      dailyQuotaGb: dailyCapGb
    }
    features: {
      disableLocalAuth: true
    }
  }
}

@description('''Days the audit logs (AzureDiagnostics: Key Vault and App Configuration audit events, who read or changed
the widget key and the settings) stay queryable; longer than the workspace default on purpose.''')
@minValue(30)
@maxValue(730)
param auditRetentionInDays int = 365

resource auditTable 'Microsoft.OperationalInsights/workspaces/tables@2022-10-01' = {
  parent: logAnalytics
  name: 'AzureDiagnostics'
  properties: {
    retentionInDays: auditRetentionInDays
    totalRetentionInDays: auditRetentionInDays
  }
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: applicationInsightsName
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: logAnalytics.id
    IngestionMode: 'LogAnalytics'
    // Ingestion needs an Entra token (APPLICATIONINSIGHTS_AUTHENTICATION_STRING on the function app).
    DisableLocalAuth: true
  }
}

output applicationInsightsName string = applicationInsights.name
output logAnalyticsWorkspaceId string = logAnalytics.id
