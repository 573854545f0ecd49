package send_test

import (
	"net"
	"testing"
)

type rawConn = net.Conn

// newRawServer listens on loopback and hands each connection, after reading the
// request's first bytes, to serve; it returns an http URL for it.
func newRawServer(t *testing.T, serve func(conn rawConn)) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				buf := make([]byte, 4096)
				_, _ = conn.Read(buf)
				serve(conn)
			}()
		}
	}()
	return "http://" + ln.Addr().String() + "/hook"
}
