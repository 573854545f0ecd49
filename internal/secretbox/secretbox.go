// Package secretbox seals the secrets Tandem must keep in its database and use again
// later (an account's model server API key): AES-256-GCM under the operator's server
// key, which never enters the database. A sealed value is bound to what it belongs to
// (its context, e.g. "ai-llm-key:42"), so a value copied to another account's row does
// not open there.
package secretbox

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
)

// prefix marks the format of a sealed value.
const prefix = "v1:"

// ErrNoKey is returned when no server key is configured: secrets cannot be stored.
var ErrNoKey = errors.New("secretbox: no server key is configured (--secret-key-file, env TANDEM_SECRET_KEY_FILE)")

// ErrOpen is returned for a value that was not sealed under this key and context.
var ErrOpen = errors.New("secretbox: the value cannot be opened with this server key")

// Box seals and opens values under one key. The zero value and nil have no key.
type Box struct {
	aead cipher.AEAD
}

// New returns a box for a server key (any string of at least 16 bytes; it is hashed
// to the AES key). An empty key gives a box that refuses to seal.
func New(key string) (*Box, error) {
	if key == "" {
		return &Box{}, nil
	}
	if len(key) < 16 {
		return nil, errors.New("secretbox: the server key must be at least 16 characters")
	}
	k := sha256.Sum256([]byte("tandem secretbox v1\x00" + key))
	block, err := aes.NewCipher(k[:])
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Box{aead: aead}, nil
}

// Ready reports whether the box has a key.
func (b *Box) Ready() bool { return b != nil && b.aead != nil }

// Seal encrypts plain for context; "" seals to "".
func (b *Box) Seal(plain, context string) (string, error) {
	if plain == "" {
		return "", nil
	}
	if !b.Ready() {
		return "", ErrNoKey
	}
	nonce := make([]byte, b.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	out := b.aead.Seal(nonce, nonce, []byte(plain), []byte(context))
	return prefix + base64.RawStdEncoding.EncodeToString(out), nil
}

// Open decrypts a value sealed for context; "" opens to "".
func (b *Box) Open(sealed, context string) (string, error) {
	if sealed == "" {
		return "", nil
	}
	if !b.Ready() {
		return "", ErrNoKey
	}
	raw, err := base64.RawStdEncoding.DecodeString(strings.TrimPrefix(sealed, prefix))
	if err != nil || !strings.HasPrefix(sealed, prefix) || len(raw) < b.aead.NonceSize() {
		return "", ErrOpen
	}
	n := b.aead.NonceSize()
	plain, err := b.aead.Open(nil, raw[:n], raw[n:], []byte(context))
	if err != nil {
		return "", ErrOpen
	}
	return string(plain), nil
}

// Sealed reports whether v has the form of a sealed value (as opposed to a secret
// stored in clear before it was sealed).
func Sealed(v string) bool {
	if !strings.HasPrefix(v, prefix) {
		return false
	}
	raw, err := base64.RawStdEncoding.DecodeString(v[len(prefix):])
	return err == nil && len(raw) > 12+16 // a GCM nonce and tag at least
}
