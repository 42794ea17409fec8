package store

import (
	"context"
	"fmt"
)

// SetRegistration sets the registration status a station is given at its
// next BootNotification ("Accepted", "Pending" or "Rejected"); until then
// it is also what the station is reported to have.
func (s *Store) SetRegistration(ctx context.Context, stationID, status string) error {
	switch status {
	case "Accepted", "Pending", "Rejected":
	default:
		return fmt.Errorf("store: set registration: unknown status %q", status)
	}
	err := s.write(ctx, func(ctx context.Context, w *wtx) error {
		res, err := w.exec(ctx, `UPDATE stations SET registration_status = $2 WHERE id = $1`, stationID, status)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			if err == nil {
				err = ErrNotFound
			}
			return reject(err)
		}
		return nil
	})
	if err != nil {
		return wrap("set registration", err)
	}
	return nil
}
