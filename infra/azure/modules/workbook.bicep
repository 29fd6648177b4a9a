// The operator's dashboard: an Azure Workbook over the function's Application Insights, built from the metrics and
// spans the function emits (names: shared/telemetry.py; queries: queries/workbook-*.kql). docs/operations.md says
// what healthy looks like on each panel.

@description('Name of the Application Insights component the function sends telemetry to.')
param applicationInsightsName string

@description('Azure region of the workbook.')
param location string

@description('Tags applied to the workbook.')
param tags object

@description('Display name of the workbook.')
param displayName string = 'connect-sso operations'

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

var panels = [
  {
    name: 'requests-by-outcome'
    title: 'Contact-token requests by outcome'
    query: loadTextContent('queries/workbook-requests-by-outcome.kql')
    visualization: 'timechart'
  }
  {
    name: 'duration'
    title: 'Contact-token duration, p50 and p95 (ms)'
    query: loadTextContent('queries/workbook-duration.kql')
    visualization: 'timechart'
  }
  {
    name: 'key-fetches'
    title: 'Signing-key fetches by reason and result'
    query: loadTextContent('queries/workbook-key-fetches.kql')
    visualization: 'barchart'
  }
  {
    name: 'configuration-loads'
    title: 'Configuration loads by result'
    query: loadTextContent('queries/workbook-configuration-loads.kql')
    visualization: 'barchart'
  }
  {
    name: 'instances'
    title: 'Function instances sending telemetry'
    query: loadTextContent('queries/workbook-instances.kql')
    visualization: 'timechart'
  }
  {
    name: 'top-refusals'
    title: 'Top refusal codes'
    query: loadTextContent('queries/workbook-top-refusals.kql')
    visualization: 'table'
  }
]

var content = {
  version: 'Notebook/1.0'
  items: concat([
    {
      type: 1
      name: 'title'
      content: {
        json: '## connect-sso\nContact tokens issued and refused, their duration, signing-key fetches, configuration loads and instances. Runbook: docs/operations.md'
      }
    }
  ], map(panels, panel => {
    type: 3
    name: panel.name
    content: {
      version: 'KqlItem/1.0'
      query: panel.query
      title: panel.title
      size: 0
      timeContext: {
        durationMs: 86400000
      }
      queryType: 0
      resourceType: 'microsoft.insights/components'
      visualization: panel.visualization
    }
  }))
  fallbackResourceIds: [
    applicationInsights.id
  ]
}

resource workbook 'Microsoft.Insights/workbooks@2023-06-01' = {
  name: guid(applicationInsights.id, 'connect-sso-operations')
  location: location
  tags: tags
  kind: 'shared'
  properties: {
    displayName: displayName
    category: 'workbook'
    sourceId: applicationInsights.id
    serializedData: string(content)
  }
}

output workbookId string = workbook.id
