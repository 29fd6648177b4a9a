// What tells an operator that the contact-token function is broken: a standard availability test on /api/health,
// alert rules on the metrics and spans the function emits (names: shared/telemetry.py), an action group.
// Each rule's description names its section of docs/operations.md (the runbook: meaning, KQL to confirm, action).

@description('Name of the Application Insights component the function sends telemetry to.')
param applicationInsightsName string

@description('Host name of the function app (its /api/health is tested).')
param functionHostName string

@description('Azure region of the availability test and the log alert rules.')
param location string

@description('Tags applied to every resource.')
param tags object

@description('Prefix of the resource names.')
param namePrefix string

@description('Comma-separated e-mail addresses the alerts notify; empty: the alerts fire without notification.')
param alertEmailAddresses string = ''

@description('Contact-token p95 duration (ms) over which the latency alert fires.')
@minValue(100)
param durationP95ThresholdMs int = 1000

@description('401s in 15 minutes below which the 401-surge alert never fires, whatever the usual rate.')
@minValue(1)
param unauthorizedSurgeMinimum int = 50

@description('Failed chat history operations in 15 minutes below which the chat-history alert never fires, whatever the rate.')
@minValue(1)
param chatHistoryErrorMinimum int = 20

@description('Resource id of the Log Analytics workspace (its daily cap can stop ingestion: the over-quota alert watches it).')
param logAnalyticsWorkspaceId string

@description('Availability-test locations, 1 to 5 (development environments use 2: each location bills per test run).')
@minValue(1)
@maxValue(5)
param availabilityLocationCount int = 5

var runbook = 'docs/operations.md'
var emails = filter(map(split(alertEmailAddresses, ','), address => trim(address)), address => !empty(address))

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = {
  name: '${namePrefix}-operators'
  location: 'Global'
  tags: tags
  properties: {
    groupShortName: 'connect-sso'
    enabled: true
    emailReceivers: [for (address, index) in emails: {
      name: 'email-${index}'
      emailAddress: address
      useCommonAlertSchema: true
    }]
  }
}

// Up to five locations on three continents, every 5 minutes; the body must say ready (200 alone could be a proxy page).
var availabilityLocations = take([ 'emea-nl-ams-azr', 'us-va-ash-azr', 'emea-gb-db3-azr', 'us-ca-sjc-azr', 'apac-sg-sin-azr' ], availabilityLocationCount)

resource availabilityTest 'Microsoft.Insights/webtests@2022-06-15' = {
  name: '${namePrefix}-health'
  location: location
  // The hidden-link tag is how Application Insights lists the test under its component.
  tags: union(tags, {
    'hidden-link:${applicationInsights.id}': 'Resource'
  })
  kind: 'standard'
  properties: {
    SyntheticMonitorId: '${namePrefix}-health'
    Name: 'connect-sso /api/health'
    Description: 'GET /api/health answers 200 {"status": "ready"} (runbook: ${runbook}#availability-test-failing)'
    Enabled: true
    Frequency: 300
    Timeout: 30
    Kind: 'standard'
    RetryEnabled: true
    Locations: [for id in availabilityLocations: {
      Id: id
    }]
    Request: {
      RequestUrl: 'https://${functionHostName}/api/health'
      HttpVerb: 'GET'
      ParseDependentRequests: false
    }
    ValidationRules: {
      ExpectedHttpStatusCode: 200
      SSLCheck: true
      SSLCertRemainingLifetimeCheck: 7
      ContentValidation: {
        ContentMatch: '"status": "ready"'
        IgnoreCase: false
        PassIfTextFound: true
      }
    }
  }
}

resource availabilityAlert 'Microsoft.Insights/metricAlerts@2018-03-01' = {
  name: '${namePrefix}-availability'
  location: 'global'
  tags: tags
  properties: {
    description: 'The /api/health availability test fails from ${min(2, availabilityLocationCount)} or more locations. Runbook: ${runbook}#availability-test-failing'
    severity: 1
    enabled: true
    scopes: [
      availabilityTest.id
      applicationInsights.id
    ]
    evaluationFrequency: 'PT1M'
    windowSize: 'PT5M'
    criteria: {
      'odata.type': 'Microsoft.Azure.Monitor.WebtestLocationAvailabilityCriteria'
      webTestId: availabilityTest.id
      componentId: applicationInsights.id
      failedLocationCount: min(2, availabilityLocationCount)
    }
    actions: [
      {
        actionGroupId: actionGroup.id
      }
    ]
  }
}

// Log alerts over Application Insights (customMetrics: the counters; dependencies: the request spans).
// Each query returns rows only when the rule should fire.
var queryAlerts = [
  {
    name: 'server-errors'
    displayName: 'connect-sso: contact-token requests answered 5xx'
    description: 'Any 5xx answer to a contact-token request (500 internal or too large, 503 unavailable). Runbook: ${runbook}#any-5xx'
    severity: 1
    frequency: 'PT5M'
    window: 'PT5M'
    query: loadTextContent('queries/alert-server-errors.kql')
  }
  {
    name: 'unavailable'
    displayName: 'connect-sso: 503, signing keys or configuration unavailable'
    description: 'Requests answered 503 (signing_keys_unavailable, configuration_unavailable, configuration_invalid). Runbook: ${runbook}#503-signing-keys-or-configuration-unavailable'
    severity: 1
    frequency: 'PT5M'
    window: 'PT5M'
    query: loadTextContent('queries/alert-unavailable.kql')
  }
  {
    name: 'signing-key-fetch-failures'
    displayName: 'connect-sso: signing-key fetches failing'
    description: 'Fetching Entra\'s OpenID metadata or signing keys failed (the last good keys keep serving). Runbook: ${runbook}#signing-key-fetch-failures'
    severity: 2
    frequency: 'PT15M'
    window: 'PT15M'
    query: loadTextContent('queries/alert-signing-key-fetch-failures.kql')
  }
  {
    name: 'unauthorized-surge'
    displayName: 'connect-sso: surge of 401s'
    description: '401s in the last 15 minutes are over 3 times the usual rate of the day before and over ${unauthorizedSurgeMinimum}: a broken page deployment or an attack. Runbook: ${runbook}#surge-of-401s'
    severity: 2
    frequency: 'PT15M'
    window: 'P1D'
    query: replace(loadTextContent('queries/alert-unauthorized-surge.kql'), 'MINIMUM', string(unauthorizedSurgeMinimum))
    // An operator resolves it: when the daily cap stops ingestion the query sees no 401s and would "resolve" it.
    autoMitigate: false
  }
  {
    name: 'slow-contact-tokens'
    displayName: 'connect-sso: contact-token p95 duration high'
    description: 'The 95th percentile of contact-token request durations is over ${durationP95ThresholdMs} ms. Runbook: ${runbook}#contact-token-p95-duration-high'
    severity: 3
    frequency: 'PT15M'
    window: 'PT15M'
    query: replace(loadTextContent('queries/alert-slow-contact-tokens.kql'), 'THRESHOLD', string(durationP95ThresholdMs))
  }
  {
    name: 'chat-history-errors'
    displayName: 'connect-sso: chat history store failing'
    description: 'Over 10% of chat history operations failed in the last 15 minutes, and at least ${chatHistoryErrorMinimum}: returning customers start new chats instead of resuming theirs. Runbook: ${runbook}#chat-history-store-failing'
    severity: 3
    frequency: 'PT5M'
    window: 'PT15M'
    query: replace(loadTextContent('queries/alert-chat-history-errors.kql'), 'MINIMUM', string(chatHistoryErrorMinimum))
  }
]

resource logAlerts 'Microsoft.Insights/scheduledQueryRules@2022-06-15' = [for alert in queryAlerts: {
  name: '${namePrefix}-${alert.name}'
  location: location
  tags: tags
  properties: {
    displayName: alert.displayName
    description: alert.description
    severity: alert.severity
    enabled: true
    scopes: [
      applicationInsights.id
    ]
    evaluationFrequency: alert.frequency
    windowSize: alert.window
    autoMitigate: alert.?autoMitigate ?? true
    criteria: {
      allOf: [
        {
          query: alert.query
          timeAggregation: 'Count'
          operator: 'GreaterThan'
          threshold: 0
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    actions: {
      actionGroups: [
        actionGroup.id
      ]
    }
  }
}]

// The workspace's daily cap stops ingestion: every alert above then goes blind (and would resolve). Log Analytics
// records that in its _LogOperation table, which the cap does not stop, so this rule watches the workspace itself.
resource workspaceOverQuota 'Microsoft.Insights/scheduledQueryRules@2022-06-15' = {
  name: '${namePrefix}-workspace-over-quota'
  location: location
  tags: tags
  properties: {
    displayName: 'connect-sso: Log Analytics daily cap reached, telemetry stopped'
    description: 'The workspace reached its daily cap (LOG_ANALYTICS_DAILY_CAP_GB): no telemetry, so no other alert can fire until the next day. Runbook: ${runbook}#log-analytics-daily-cap-reached'
    severity: 1
    enabled: true
    scopes: [
      logAnalyticsWorkspaceId
    ]
    evaluationFrequency: 'PT15M'
    windowSize: 'PT1H'
    autoMitigate: false
    criteria: {
      allOf: [
        {
          query: loadTextContent('queries/alert-workspace-over-quota.kql')
          timeAggregation: 'Count'
          operator: 'GreaterThan'
          threshold: 0
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    actions: {
      actionGroups: [
        actionGroup.id
      ]
    }
  }
}

output actionGroupId string = actionGroup.id
output availabilityTestName string = availabilityTest.name
