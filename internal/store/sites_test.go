package store

import (
	"context"
	"errors"
	"testing"

	"github.com/chargestar/chargestar/internal/model"
)

func TestUpdateSiteAndListAPITokens(t *testing.T) {
	for _, b := range backendNames {
		t.Run(b, func(t *testing.T) {
			s := newHarness(t, b).open(Options{})
			ctx := context.Background()
			op, _ := fixture(t, s)
			other, _ := fixture(t, s)
			site, err := s.CreateSite(ctx, model.Site{OperatorID: op.ID, Name: "Wharf", Timezone: "UTC", LegalName: "Wharf Pty Ltd", TaxID: "51 824 753 556"})
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := s.GetSite(ctx, op.ID, site.ID); got.LegalName != "Wharf Pty Ltd" || got.TaxID != "51 824 753 556" {
				t.Errorf("created site %+v", got)
			}
			up, err := s.UpdateSite(ctx, model.Site{ID: site.ID, OperatorID: op.ID, Name: "Wharf West", Address: "1 Quay St",
				Timezone: "Australia/Sydney", LegalName: "", TaxID: ""})
			if err != nil {
				t.Fatal(err)
			}
			if up.Name != "Wharf West" || up.Address != "1 Quay St" || up.Timezone != "Australia/Sydney" || up.LegalName != "" ||
				up.TaxID != "" || up.OperatorID != op.ID || !up.CreatedAt.Equal(site.CreatedAt) {
				t.Errorf("updated site %+v (created %+v)", up, site)
			}
			if got, _ := s.GetSite(ctx, "", site.ID); got != up {
				t.Errorf("read back %+v, want %+v", got, up)
			}
			// Another operator's site is not found, and not changed.
			if _, err := s.UpdateSite(ctx, model.Site{ID: site.ID, OperatorID: other.ID, Name: "Evil", Timezone: "UTC"}); !errors.Is(err, ErrNotFound) {
				t.Errorf("another operator's site: %v", err)
			}
			if _, err := s.UpdateSite(ctx, model.Site{ID: "site_nope", OperatorID: op.ID, Name: "x", Timezone: "UTC"}); !errors.Is(err, ErrNotFound) {
				t.Errorf("unknown site: %v", err)
			}
			if got, _ := s.GetSite(ctx, "", site.ID); got.Name != "Wharf West" {
				t.Errorf("the site was changed by another operator: %+v", got)
			}

			t1, err := s.CreateAPIToken(ctx, model.APIToken{OperatorID: op.ID, Name: "export", Hash: []byte("h1")})
			if err != nil {
				t.Fatal(err)
			}
			t2, err := s.CreateAPIToken(ctx, model.APIToken{OperatorID: op.ID, Name: "billing", Hash: []byte("h2")})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.CreateAPIToken(ctx, model.APIToken{OperatorID: other.ID, Hash: []byte("h3")}); err != nil {
				t.Fatal(err)
			}
			if _, err := s.CreateAPIToken(ctx, model.APIToken{Hash: []byte("h4")}); err != nil { // an administrator's
				t.Fatal(err)
			}
			if err := s.RevokeAPIToken(ctx, op.ID, t2.ID); err != nil {
				t.Fatal(err)
			}
			toks, err := s.ListAPITokens(ctx, op.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(toks) != 2 {
				t.Fatalf("tokens %+v", toks)
			}
			byID := map[string]model.APIToken{toks[0].ID: toks[0], toks[1].ID: toks[1]}
			if g := byID[t1.ID]; g.Name != "export" || g.RevokedAt != nil || g.Hash != nil || g.OperatorID != op.ID || !g.CreatedAt.Equal(t1.CreatedAt) {
				t.Errorf("token 1 %+v", g)
			}
			if g := byID[t2.ID]; g.Name != "billing" || g.RevokedAt == nil {
				t.Errorf("token 2 %+v", g)
			}
			if toks[0].ID > toks[1].ID {
				t.Errorf("not ordered by id: %v, %v", toks[0].ID, toks[1].ID)
			}
		})
	}
}
