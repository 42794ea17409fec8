package api

func statusReportProbes(e *env) map[string][]probe { return nil }

// statusReportContractRoutes lists this file's routes for TestOpenAPIDocumentListsExactlyTheServedRoutes.
var statusReportContractRoutes []string
