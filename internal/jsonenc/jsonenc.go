// Package jsonenc writes JSON byte for byte as encoding/json's Marshal writes it, without
// reflection for the values tickets and their audits are made of (strings, integers,
// booleans, null, lists and small maps of them); anything else goes through Marshal.
// The API renders tickets with it, and the ticket writer stores audits with it, where
// reflection over maps was most of the encoding's cost.
package jsonenc

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"unicode/utf8"
)

// Value writes v as json.Marshal would.
func Value(b *bytes.Buffer, v any) error {
	var scratch [24]byte
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
		return nil
	case bool:
		b.Write(strconv.AppendBool(scratch[:0], x))
		return nil
	case int:
		b.Write(strconv.AppendInt(scratch[:0], int64(x), 10))
		return nil
	case int64:
		b.Write(strconv.AppendInt(scratch[:0], x, 10))
		return nil
	case string:
		String(b, x)
		return nil
	case []string:
		return List(b, x, func(e string) error { String(b, e); return nil })
	case []int64:
		return List(b, x, func(e int64) error {
			b.Write(strconv.AppendInt(scratch[:0], e, 10))
			return nil
		})
	case map[string]any:
		// A ticket's via, satisfaction_rating and its custom fields are small maps.
		return Map(b, x)
	case []map[string]any:
		return List(b, x, func(e map[string]any) error { return Map(b, e) })
	}
	enc, err := json.Marshal(v)
	if err != nil {
		return err
	}
	b.Write(enc)
	return nil
}

// String writes s as json.Marshal would (Quote), into b's spare room.
func String(b *bytes.Buffer, s string) {
	b.Grow(len(s) + 2)
	b.Write(Quote(b.AvailableBuffer(), s))
}

// Map writes m as json.Marshal would: keys sorted, nil is null.
func Map(b *bytes.Buffer, m map[string]any) error {
	if m == nil {
		b.WriteString("null")
		return nil
	}
	var buf [8]string
	b.WriteByte('{')
	for i, k := range sortedKeys(m, buf[:0]) {
		if i > 0 {
			b.WriteByte(',')
		}
		String(b, k)
		b.WriteByte(':')
		if err := Value(b, m[k]); err != nil {
			return err
		}
	}
	b.WriteByte('}')
	return nil
}

// sortedKeys returns m's keys in order. The small maps a ticket is made of (its via,
// its rating, each custom field twice) are sorted in the caller's buffer, on its stack:
// allocating and sorting each one's keys through slices.Sorted was a seventh of a list
// page's CPU.
func sortedKeys(m map[string]any, buf []string) []string {
	if len(m) > cap(buf) {
		return slices.Sorted(maps.Keys(m))
	}
	keys := buf[:0]
	for k := range m {
		i := len(keys)
		keys = append(keys, k)
		for ; i > 0 && keys[i-1] > k; i-- {
			keys[i] = keys[i-1]
		}
		keys[i] = k
	}
	return keys
}

// List writes a list as json.Marshal would (nil is null), each element with one.
func List[T any](b *bytes.Buffer, list []T, one func(T) error) error {
	if list == nil {
		b.WriteString("null")
		return nil
	}
	b.WriteByte('[')
	for i, e := range list {
		if i > 0 {
			b.WriteByte(',')
		}
		if err := one(e); err != nil {
			return err
		}
	}
	b.WriteByte(']')
	return nil
}

// Quote appends s quoted as encoding/json writes a string with HTML
// escaping on: <, >, & and control characters as \u00XX (\b \f \n \r \t short), invalid
// UTF-8 as \ufffd, U+2028 and U+2029 escaped, everything else as it is.
func Quote(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '\\', '"':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
