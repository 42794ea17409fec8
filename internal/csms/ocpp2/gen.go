package ocpp2

//go:generate go run ./gen21 .
