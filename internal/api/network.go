package api

func (h *handler) networkRoutes() []route { return nil }

type networkStore interface{}
