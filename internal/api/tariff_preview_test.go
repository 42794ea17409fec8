package api

func tariffPreviewProbes(e *env) map[string][]probe { return nil }

func tariffPreviewBodyPaths(e *env) map[string]string { return nil }

// tariffPreviewContractRoutes lists this file's routes for TestOpenAPIDocumentListsExactlyTheServedRoutes.
var tariffPreviewContractRoutes []string
