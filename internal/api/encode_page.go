package api

// preEncode replaces body[key], a page of records rendered as maps, with its JSON as
// encodeObjects writes it: the same bytes encoding/json writes, with the keys sorted once
// for the page instead of once per record (on a list page of 100 tickets, sorting map
// keys was most of the encoding). Call it last, after anything that edits the records.
func preEncode(body map[string]any, key string) error {
	list, ok := body[key].([]map[string]any)
	if !ok || len(list) < 2 {
		return nil
	}
	raw, err := encodeObjects(list)
	if err != nil {
		return err
	}
	body[key] = raw
	return nil
}
