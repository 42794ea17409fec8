package api

func (h *handler) alertRoutes() []route { return nil }

type alertStore interface{}
