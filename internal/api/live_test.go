package api

func liveProbes(e *env) map[string][]probe { return nil }

// liveContractRoutes lists this file's routes for TestOpenAPIDocumentListsExactlyTheServedRoutes.
var liveContractRoutes []string
