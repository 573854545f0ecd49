package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// client speaks to one account of the running server over loopback, exactly as an API
// client does: Host header naming the account, Basic auth with an API token, JSON bodies.
type client struct {
	http  *http.Client
	dial  string // host:port the server listens on, e.g. 127.0.0.1:8080
	host  string // Host header, e.g. acme.localhost:8080
	email string
	token string
	// password, when set, signs in with the user's password instead of a token (an
	// end user rating their request).
	password string
}

// RequestError is a seeding request the server refused; its message shows the request
// and the response body, so a broken endpoint is easy to find.
type RequestError struct {
	Method   string
	URL      string
	Request  []byte
	Status   string
	Response []byte
}

func (e *RequestError) Error() string {
	return fmt.Sprintf("%s %s answered %s\n  request:  %s\n  response: %s",
		e.Method, e.URL, e.Status, clip(e.Request), clip(e.Response))
}

func clip(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return "(empty)"
	}
	if len(b) > 2000 {
		return string(b[:2000]) + fmt.Sprintf("... (%d bytes)", len(b))
	}
	return string(b)
}

// do sends in (nil for no body) as JSON and decodes a 2xx response into out (nil to
// ignore it). A 429 is retried after the Retry-After the server asks for, as Zendesk's
// own clients do; any other non-2xx answer is a *RequestError.
func (c *client) do(ctx context.Context, method, path string, in, out any) error {
	var body []byte
	raw, isRaw := in.([]byte) // a file for /api/v2/uploads, sent as it is
	if isRaw {
		body = raw
	} else if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return fmt.Errorf("encode %s %s: %w", method, path, err)
		}
	}
	url := "http://" + c.host + path
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, method, "http://"+c.dial+path, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Host = c.host
		if c.password != "" {
			req.SetBasicAuth(c.email, c.password)
		} else {
			req.SetBasicAuth(c.email+"/token", c.token)
		}
		req.Header.Set("Accept", "application/json")
		if isRaw {
			req.Header.Set("Content-Type", "application/binary")
		} else if in != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := c.http.Do(req)
		if err != nil {
			return fmt.Errorf("%s %s: %w", method, url, err)
		}
		raw, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
		resp.Body.Close()
		if err != nil {
			return fmt.Errorf("%s %s: read response: %w", method, url, err)
		}
		if resp.StatusCode == http.StatusTooManyRequests && attempt < 5 {
			wait, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
			wait = min(max(wait, 1), 60)
			select {
			case <-time.After(time.Duration(wait) * time.Second):
				continue
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if resp.StatusCode/100 != 2 {
			return &RequestError{Method: method, URL: url, Request: body, Status: resp.Status, Response: raw}
		}
		if out != nil {
			if err := json.Unmarshal(raw, out); err != nil {
				return fmt.Errorf("%s %s: decode response %s: %w", method, url, clip(raw), err)
			}
		}
		return nil
	}
}

// create POSTs {key: obj} to path and returns the id of the created {key: {...}}.
func (c *client) create(ctx context.Context, path, key string, obj any) (int64, error) {
	var resp map[string]struct {
		ID int64 `json:"id"`
	}
	if err := c.do(ctx, http.MethodPost, path, map[string]any{key: obj}, &resp); err != nil {
		return 0, err
	}
	id := resp[key].ID
	if id == 0 {
		return 0, fmt.Errorf("POST http://%s%s: the response has no %s.id", c.host, path, key)
	}
	return id, nil
}
