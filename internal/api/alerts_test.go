package api

func alertProbes(e *env) map[string][]probe { return nil }

func alertBodyPaths(e *env) map[string]string { return nil }

// alertContractRoutes lists this file's routes for TestOpenAPIDocumentListsExactlyTheServedRoutes.
var alertContractRoutes []string
