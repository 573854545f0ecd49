package api

import (
	"bytes"
	"encoding/json"
	"maps"
	"net/http"
	"slices"
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
// encoded (a json.RawMessage written as encoding/json writes: compact, escaped).
func encodePage(body map[string]any, key string) ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range slices.Sorted(maps.Keys(body)) {
		if i > 0 {
			b.WriteByte(',')
		}
		name, err := json.Marshal(k)
		if err != nil {
			return nil, err
		}
		b.Write(name)
		b.WriteByte(':')
		var v []byte
		if raw, ok := body[k].(json.RawMessage); ok && k == key && raw != nil {
			v = raw
		} else {
			v, err = json.Marshal(body[k])
		}
		if err != nil {
			return nil, err
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}
