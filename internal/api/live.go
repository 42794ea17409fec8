package api

func (h *handler) liveRoutes() []route { return nil }
