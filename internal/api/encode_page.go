package api

import (
	"bytes"
	"encoding/json"
	"maps"
	"net/http"
	"slices"
)

// writeJSONPage is writeJSON for a body whose key holds a page of records rendered as
// maps: the page is encoded by encodeObjects, which writes the same bytes as
// encoding/json but sorts the keys once for the page instead of once per record, and is
// spliced into the body as it is (encoding/json would check and compact it again). On a
// list page of 100 tickets the key sorting was most of the encoding.
func writeJSONPage(w http.ResponseWriter, status int, body map[string]any, key string) {
	b, err := encodePage(body, key)
	if err != nil {
		http.Error(w, `{"error":"InternalError"}`, http.StatusInternalServerError)
		return
	}
	writeJSONBytes(w, status, b)
}

// encodePage encodes body as encoding/json would, body[key] through encodeObjects, or as
// it is when it is already encoded (json.RawMessage).
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
		if list, ok := body[k].([]map[string]any); ok && k == key && list != nil {
			v, err = encodeObjects(list)
		} else if raw, ok := body[k].(json.RawMessage); ok && k == key && raw != nil {
			v = raw // written by ticketsJSON as encoding/json writes it: compact, escaped
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
