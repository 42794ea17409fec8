package api

func (h *handler) userRoutes() []route { return nil }

type userStore interface{}
