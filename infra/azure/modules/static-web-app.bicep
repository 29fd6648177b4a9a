// Static Web App that serves the page (static_spa/dist). azd deploys to it by its azd-service-name tag.

@description('Name of the Static Web App.')
param name string

@description('Region of the Static Web App (a small set of regions host its control plane; content is served globally).')
param location string

@description('Tags applied to the Static Web App (include azd-service-name).')
param tags object

@description('Free suits the page: it has no server-side code. Standard adds an SLA and private endpoints.')
@allowed([
  'Free'
  'Standard'
])
param sku string = 'Free'

resource staticWebApp 'Microsoft.Web/staticSites@2024-04-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: sku
    tier: sku
  }
  properties: {
    // Deployed by azd, not by a linked repository.
    provider: 'Custom'
    allowConfigFileUpdates: true
    stagingEnvironmentPolicy: 'Disabled'
  }
}

output name string = staticWebApp.name
output defaultHostname string = staticWebApp.properties.defaultHostname
