package demo

import (
	"context"
	"errors"
	"strings"
)

// DKIMInfo is the DKIM key the demo generated for Acme: where its admin would publish
// the record, and the record (Admin > Email shows both).
type DKIMInfo struct {
	Name   string
	Record string
}

// seedDKIM generates Acme's own DKIM key through /api/v2/dkim_key, so its outgoing
// mail is signed (when a relay is set) and the Email page shows the record. A server
// without a secret key to seal it with (422) has none: nil, no error.
func seedDKIM(ctx context.Context, a *accountSeed) (*DKIMInfo, error) {
	var out struct {
		K struct {
			Name   string `json:"dns_name"`
			Record string `json:"dns_record"`
		} `json:"dkim_key"`
	}
	err := a.api.do(ctx, "POST", "/api/v2/dkim_key", map[string]any{}, &out)
	var re *RequestError
	if errors.As(err, &re) && strings.HasPrefix(re.Status, "422") {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &DKIMInfo{Name: out.K.Name, Record: out.K.Record}, nil
}
