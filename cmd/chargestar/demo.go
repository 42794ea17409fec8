package main

import (
	"context"
	"io"

	"github.com/chargestar/chargestar/internal/config"
)

func demoCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return config.Usagef("demo: not yet")
}
