package api

import (
	"bytes"
	"encoding/json"
	"maps"
	"net/http"
	"slices"

	"tandem/internal/jsonenc"
)

// writeJSONPage is writeJSON for a body whose key holds tickets already written as JSON
// (a page, or one ticket): they are spliced into the body as they are, where
// encoding/json would check and compact them again.
func writeJSONPage(w http.ResponseWriter, status int, body map[string]any, key string) {
	b, err := encodePage(body, key)
	if err != nil {
		http.Error(w, `{"error":"InternalError"}`, http.StatusInternalServerError)
		return
	}
	writeJSONBytes(w, status, b)
}

// encodePage encodes body as encoding/json would, body[key] as it is when it is already
// encoded (a json.RawMessage written as encoding/json writes: compact, escaped). The
// other values go through appendValue: a write's audit beside its ticket is maps of
// maps, which encoding/json walked by reflection (a sixth of a create's allocations).
func encodePage(body map[string]any, key string) ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range slices.Sorted(maps.Keys(body)) {
		if i > 0 {
			b.WriteByte(',')
		}
		jsonenc.String(&b, k)
		b.WriteByte(':')
		if raw, ok := body[k].(json.RawMessage); ok && k == key && raw != nil {
			b.Write(raw)
		} else if err := jsonenc.Value(&b, body[k]); err != nil {
			return nil, err
		}
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}
