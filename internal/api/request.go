package api

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// maxBodyBytes bounds every request body.
const maxBodyBytes = 1 << 20

// readBody reads the request body up to maxBodyBytes.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, errorf(http.StatusRequestEntityTooLarge, codeBodyTooLarge, "request body exceeds %d bytes", maxBodyBytes)
	}
	if err != nil {
		return nil, errorf(http.StatusBadRequest, codeInvalidJSON, "reading the request body: %v", err)
	}
	return data, nil
}

// decodeJSON reads the body into dst, a pointer to a request struct. The
// body must be one JSON object without unknown fields; an empty body is
// accepted (as {}) only when optional.
func decodeJSON(w http.ResponseWriter, r *http.Request, dst any, optional bool) error {
	data, err := readBody(w, r)
	if err != nil {
		return err
	}
	return unmarshalRequest(data, dst, optional)
}

func unmarshalRequest(data []byte, dst any, optional bool) error {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		if optional {
			return nil
		}
		return errorf(http.StatusBadRequest, codeInvalidJSON, "the request body is empty; send a JSON object")
	}
	if trimmed[0] != '{' {
		if !json.Valid(trimmed) {
			return errorf(http.StatusBadRequest, codeInvalidJSON, "the request body is not valid JSON")
		}
		return errorf(http.StatusBadRequest, codeInvalidJSON, "the request body must be a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonError(err, dst)
	}
	if _, err := dec.Token(); err != io.EOF {
		return errorf(http.StatusBadRequest, codeInvalidJSON, "unexpected data after the JSON object")
	}
	return nil
}

// jsonError turns an encoding/json error into a 400 that says where.
func jsonError(err error, dst any) error {
	var (
		syn *json.SyntaxError
		typ *json.UnmarshalTypeError
		ae  *apiError
	)
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.As(err, &syn):
		return errorf(http.StatusBadRequest, codeInvalidJSON, "malformed JSON at byte %d: %v", syn.Offset, syn)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errorf(http.StatusBadRequest, codeInvalidJSON, "malformed JSON: the body ends too early")
	case errors.As(err, &typ):
		if typ.Field == "" {
			return errorf(http.StatusBadRequest, codeInvalidJSON, "the request body must be a JSON object")
		}
		return errorf(http.StatusBadRequest, codeInvalidJSON, "%s: expected %s, got a JSON %s", typ.Field, jsonKind(typ.Type), typ.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.TrimPrefix(err.Error(), "json: unknown field ")
		return errorf(http.StatusBadRequest, codeInvalidJSON, "unknown field %s; the fields are %s", name, fieldNames(dst))
	}
	return errorf(http.StatusBadRequest, codeInvalidJSON, "invalid JSON: %v", err)
}

// jsonKind names the JSON type a Go type decodes from.
func jsonKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct:
		if t == reflect.TypeFor[time.Time]() {
			return "an RFC 3339 date-time string"
		}
		return "an object"
	}
	return "another type"
}

// fieldNames lists the JSON names of a request struct's fields.
func fieldNames(dst any) string {
	t := reflect.TypeOf(dst)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return "(none)"
	}
	var names []string
	for i := range t.NumField() {
		f := t.Field(i)
		if name, _, _ := strings.Cut(f.Tag.Get("json"), ","); name != "" && name != "-" {
			names = append(names, strconv.Quote(name))
		}
	}
	return strings.Join(names, ", ")
}

// Optional is a request field that distinguishes absent (Set false), null
// (Null true) and a value (PATCH semantics).
type Optional[T any] struct {
	Set   bool
	Null  bool
	Value T
}

// UnmarshalJSON implements json.Unmarshaler; it is called only for a
// present field, including for null.
func (o *Optional[T]) UnmarshalJSON(b []byte) error {
	o.Set = true
	if string(b) == "null" {
		o.Null = true
		return nil
	}
	return json.Unmarshal(b, &o.Value)
}

// Lists.

// List is one page of a listing.
type List[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor" doc:"Pass as cursor to get the next page; empty on the last page."`
}

func newList[T any](items []T, next string) List[T] {
	if items == nil {
		items = []T{}
	}
	return List[T]{Items: items, NextCursor: next}
}

// Page sizes of every listing.
const (
	defaultLimit = 100
	maxLimit     = 500
)

// page is the parsed limit and cursor of a list request.
type page struct {
	limit  int
	cursor string // decoded; "" for the first page
}

// parsePage reads limit and cursor. Cursors are opaque to clients: the
// base64url encoding of a position that only this package interprets.
func parsePage(r *http.Request) (page, error) {
	q := r.URL.Query()
	pg := page{limit: defaultLimit}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxLimit {
			return page{}, badParam("limit", "must be an integer from 1 to %d", maxLimit)
		}
		pg.limit = n
	}
	if s := q.Get("cursor"); s != "" {
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil || len(b) == 0 || !utf8.Valid(b) {
			return page{}, badParam("cursor", "not a cursor returned by this API")
		}
		pg.cursor = string(b)
	}
	return pg, nil
}

func encodeCursor(pos string) string { return base64.RawURLEncoding.EncodeToString([]byte(pos)) }

// errBadCursor is the answer for a cursor that decodes but does not fit.
func errBadCursor() error { return badParam("cursor", "not a cursor returned by this API") }

// paginate takes one page of items, which are ordered by key ascending.
func paginate[T any](items []T, key func(T) string, pg page) ([]T, string) {
	start := 0
	if pg.cursor != "" {
		for start < len(items) && key(items[start]) <= pg.cursor {
			start++
		}
	}
	items = items[start:]
	if len(items) > pg.limit {
		return items[:pg.limit], encodeCursor(key(items[pg.limit-1]))
	}
	return items, ""
}

// trimPage cuts items, fetched with limit+1, to the page and returns the
// cursor position of its last item when there is more.
func trimPage[T any](items []T, limit int, pos func(T) string) ([]T, string) {
	if len(items) > limit {
		return items[:limit], encodeCursor(pos(items[limit-1]))
	}
	return items, ""
}

// Field checks shared by the resources.

// checkText validates a free-text field: trimmed, within [min, max]
// characters, no control characters.
func checkText(field, v string, min, max int) (string, error) {
	v = strings.TrimSpace(v)
	n := utf8.RuneCountInString(v)
	switch {
	case n < min && n == 0:
		return "", invalid(field, "is required")
	case n < min:
		return "", invalid(field, "must have at least %d characters", min)
	case n > max:
		return "", invalid(field, "must have at most %d characters", max)
	}
	if i := strings.IndexFunc(v, unicode.IsControl); i >= 0 {
		return "", invalid(field, "must not contain control characters")
	}
	return v, nil
}

func utc(t time.Time) time.Time { return t.UTC() }

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func strPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
