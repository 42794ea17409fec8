package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// ProvisionConfig says what to create through the REST API.
type ProvisionConfig struct {
	APIURL string // the server's base URL, e.g. http://localhost:8080
	Token  string // a platform-administrator API token
	// OperatorName, Currency and Country describe the operator created
	// when the first station does not exist yet (defaults "Charge Star
	// simulator", "EUR", "DE").
	OperatorName, Currency, Country string
	StationIDs                      []string
	Password                        string // Basic-authentication password for every station ("" none)
	Connectors                      int
	IDTag                           func(stationID string, connector int) string // default DefaultIDTag
	Concurrency                     int                                          // parallel requests (default 16)
	HTTPClient                      *http.Client
}

// ProvisionResult counts what was created.
type ProvisionResult struct {
	OperatorID                       string
	OperatorCreated                  bool
	StationsCreated, StationsExisted int
	TokensCreated, TokensExisted     int
}

// Provision creates an operator, the stations and their id tags through
// the REST API (POST /api/v1/operators, /stations, /id-tokens), treating
// 409 as "exists already", so it can be run again. When the first station
// exists, its operator is reused (GET /api/v1/stations/{id}).
func Provision(ctx context.Context, cfg ProvisionConfig) (ProvisionResult, error) {
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if cfg.IDTag == nil {
		cfg.IDTag = DefaultIDTag
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 16
	}
	if cfg.OperatorName == "" {
		cfg.OperatorName = "Charge Star simulator"
	}
	if cfg.Currency == "" {
		cfg.Currency = "EUR"
	}
	if cfg.Country == "" {
		cfg.Country = "DE"
	}
	var res ProvisionResult
	if len(cfg.StationIDs) == 0 {
		return res, nil
	}
	api := &apiClient{base: strings.TrimRight(cfg.APIURL, "/"), token: cfg.Token, http: cfg.HTTPClient}

	// Reuse the operator of an existing first station, else create one.
	var st struct {
		OperatorID string `json:"operator_id"`
	}
	code, err := api.do(ctx, http.MethodGet, "/api/v1/stations/"+url.PathEscape(cfg.StationIDs[0]), nil, &st)
	switch {
	case err != nil:
		return res, err
	case code == http.StatusOK && st.OperatorID != "":
		res.OperatorID = st.OperatorID
	case code == http.StatusNotFound:
		var op struct {
			ID string `json:"id"`
		}
		code, err := api.do(ctx, http.MethodPost, "/api/v1/operators", map[string]string{"name": cfg.OperatorName, "currency": cfg.Currency, "country": cfg.Country}, &op)
		if err != nil {
			return res, err
		}
		if code != http.StatusCreated || op.ID == "" {
			return res, fmt.Errorf("creating the operator: HTTP %d", code)
		}
		res.OperatorID, res.OperatorCreated = op.ID, true
	default:
		return res, fmt.Errorf("looking up station %s: HTTP %d", cfg.StationIDs[0], code)
	}

	var created, existed, tokCreated, tokExisted atomic.Int64
	work := make(chan string)
	errc := make(chan error, cfg.Concurrency)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for i := 0; i < cfg.Concurrency; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range work {
				body := map[string]any{"id": id, "operator_id": res.OperatorID}
				if cfg.Password != "" {
					body["password"] = cfg.Password
				}
				code, err := api.do(ctx, http.MethodPost, "/api/v1/stations", body, nil)
				if err == nil && code != http.StatusCreated && code != http.StatusConflict {
					err = fmt.Errorf("creating station %s: HTTP %d", id, code)
				}
				if err != nil {
					errc <- err
					cancel()
					return
				}
				if code == http.StatusCreated {
					created.Add(1)
				} else {
					existed.Add(1)
				}
				for c := 1; c <= cfg.Connectors; c++ {
					tag := cfg.IDTag(id, c)
					code, err := api.do(ctx, http.MethodPost, "/api/v1/id-tokens", map[string]string{"id_token": tag, "operator_id": res.OperatorID, "status": "Accepted"}, nil)
					if err == nil && code != http.StatusCreated && code != http.StatusConflict {
						err = fmt.Errorf("creating id token %s: HTTP %d", tag, code)
					}
					if err != nil {
						errc <- err
						cancel()
						return
					}
					if code == http.StatusCreated {
						tokCreated.Add(1)
					} else {
						tokExisted.Add(1)
					}
				}
			}
		}()
	}
feed:
	for _, id := range cfg.StationIDs {
		select {
		case work <- id:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	res.StationsCreated, res.StationsExisted = int(created.Load()), int(existed.Load())
	res.TokensCreated, res.TokensExisted = int(tokCreated.Load()), int(tokExisted.Load())
	select {
	case err := <-errc:
		return res, err
	default:
	}
	return res, ctx.Err()
}

type apiClient struct {
	base, token string
	http        *http.Client
}

// do sends a JSON request and decodes a 2xx answer into out. Non-2xx
// answers are returned as their status code with the API's error message
// in err only for codes the caller cannot expect (401, 403, 5xx).
func (a *apiClient) do(ctx context.Context, method, path string, body, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, rd)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.http.Do(req)
	if err != nil {
		return 0, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode/100 == 2 {
		if out != nil && len(raw) > 0 {
			if err := json.Unmarshal(raw, out); err != nil {
				return resp.StatusCode, fmt.Errorf("%s %s: %w", method, path, err)
			}
		}
		return resp.StatusCode, nil
	}
	if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden || resp.StatusCode >= 500 ||
		resp.StatusCode == http.StatusBadRequest {
		var e struct {
			Error struct {
				Code, Message string
			} `json:"error"`
		}
		json.Unmarshal(raw, &e)
		msg := e.Error.Message
		if msg == "" {
			msg = strings.TrimSpace(string(raw))
		}
		return resp.StatusCode, fmt.Errorf("%s %s: HTTP %d: %s", method, path, resp.StatusCode, msg)
	}
	return resp.StatusCode, nil
}
