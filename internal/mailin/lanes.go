package mailin

import (
	"bufio"
	"bytes"
	"hash/fnv"
	"net/textproto"
	"strconv"
)

// maxThreadKey bounds a stored thread key (a Message-ID is at most a few hundred bytes).
const maxThreadKey = 300

// threadKey is the thread a message belongs to, read from its header (head: the start
// of the message): the first Message-ID of References (the thread's root, which every
// reply keeps), else In-Reply-To's, else the message's own Message-ID, else its sender.
// Messages with one key are processed in arrival order, one at a time (the claim and
// the worker lanes, below): a reply never overtakes the message it answers, so it
// finds the ticket that message made; and the same message delivered twice is seen
// twice by one lane, never by two at once.
func threadKey(head []byte, sender string) string {
	// A malformed line ends the header early; what was read before it still counts. A
	// small buffer (longer lines are read in pieces): not 4 KiB allocated a message.
	h, _ := textproto.NewReader(bufio.NewReaderSize(bytes.NewReader(head), 512)).ReadMIMEHeader()
	if h != nil {
		for _, field := range []string{"References", "In-Reply-To", "Message-Id"} {
			if mm := msgIDRE.FindStringSubmatch(h.Get(field)); mm != nil && len(mm[1]) <= maxThreadKey {
				return "<" + mm[1] + ">"
			}
		}
	}
	if len(sender) > maxThreadKey {
		sender = sender[:maxThreadKey]
	}
	return "from:" + sender
}

// lane picks the worker of a claimed message: one per thread (rows older than
// thread keys: per sender), so one thread's messages are processed in order.
func lane(c claimed, lanes int) int {
	key := c.thread
	if key == "" {
		key = "from:" + c.from
	}
	h := fnv.New32a()
	h.Write([]byte(strconv.FormatInt(int64(c.acct), 10)))
	h.Write([]byte{0})
	h.Write([]byte(key))
	return int(h.Sum32() % uint32(lanes))
}
