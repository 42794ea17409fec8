package api

func (h *handler) statusReportRoutes() []route { return nil }

type statusReportStore interface{}
