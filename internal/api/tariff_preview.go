package api

func (h *handler) tariffPreviewRoutes() []route { return nil }
