package api

func networkProbes(e *env) map[string][]probe { return nil }

func networkBodyPaths(e *env) map[string]string { return nil }

// networkContractRoutes lists this file's routes for TestOpenAPIDocumentListsExactlyTheServedRoutes.
var networkContractRoutes []string
