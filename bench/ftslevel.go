package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/bits"

	"tandem/internal/store"
)

// liftSegment moves the lone segment of FTS5 index fts to the level that merging four
// segments at a time from one-page segments would have brought it to, by rewriting the
// index's structure record (the segment's pages stay as they are), and reports whether
// it did: it does nothing, and returns false, unless the index holds exactly one segment
// and no merge is under way. A segment is the same on any level; its level only decides
// what FTS5's automerge merges it with later. The structure record (rowid 10 of the
// %_data table) is, as fts5_index.c's fts5StructureDecode reads it: a 4-byte cookie, the
// 4-byte marker of the second version if present, varints nLevel, nSegment and the
// write counter, then for each level varints nMerge and nSeg and each segment's varints
// (3, or 8 in the second version). FTS5 reads the record again in the next transaction
// (its own commit changes the data version); the caller writes nothing more to fts in
// this one.
func liftSegment(ctx context.Context, tx *store.Tx, fts string) (bool, error) {
	var rec []byte
	if err := tx.QueryRowContext(ctx, `SELECT block FROM `+fts+`_data WHERE id = 10`).Scan(&rec); err != nil {
		return false, fmt.Errorf("structure record: %w", err)
	}
	out, ok, err := liftStructure(rec)
	if err != nil || !ok {
		return false, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE `+fts+`_data SET block = ? WHERE id = 10`, out); err != nil {
		return false, fmt.Errorf("structure record: %w", err)
	}
	return true, nil
}

// ftsStructureV2 marks the second version of FTS5's structure record.
var ftsStructureV2 = []byte{0xff, 0x00, 0x00, 0x01}

// liftStructure returns structure record rec with its one segment moved to the level
// its size calls for (ftsLevel of its pages), and whether it applies (one segment, no
// merge under way, and not already on that level or above).
func liftStructure(rec []byte) ([]byte, bool, error) {
	if len(rec) < 4 {
		return nil, false, errors.New("structure record too short")
	}
	head := 4
	segVarints := 3
	if len(rec) >= 8 && bytes.Equal(rec[4:8], ftsStructureV2) {
		head, segVarints = 8, 8
	}
	r := varintReader{b: rec, i: head}
	nLevel, nSegment, writes := r.next(), r.next(), r.next()
	if r.err != nil || nSegment != 1 || nLevel < 1 || nLevel > 64 {
		return nil, false, r.err
	}
	var seg []byte
	var pages uint64
	level := -1
	for l := 0; l < int(nLevel); l++ {
		nMerge, nSeg := r.next(), r.next()
		if nMerge != 0 {
			return nil, false, r.err
		}
		for range nSeg {
			from := r.i
			vals := make([]uint64, segVarints)
			for k := range vals {
				vals[k] = r.next()
			}
			seg, level, pages = rec[from:r.i], l, vals[2]-vals[1]+1
		}
	}
	if r.err != nil || r.i != len(rec) || level < 0 {
		return nil, false, r.err
	}
	to := ftsLevel(pages)
	if level >= to {
		return nil, false, nil
	}
	out := append([]byte(nil), rec[:head]...)
	out = putVarint(out, uint64(to)+1)
	out = putVarint(out, 1)
	out = putVarint(out, writes)
	for range to {
		out = append(out, 0, 0) // nMerge, nSeg
	}
	out = append(out, 0, 1)
	return append(out, seg...), true, nil
}

// ftsLevel is the level a segment of pages leaf pages reaches when FTS5 merges four
// segments of a level into one of the next, from one-page segments on level 0 (a commit's
// worth of rows): ceil(log4(pages)), at least 1 and at most 63 (FTS5 has 64 levels).
func ftsLevel(pages uint64) int {
	l := (bits.Len64(max(pages, 2)-1) + 1) / 2
	return min(max(l, 1), 63)
}

// varintReader reads SQLite varints (big-endian, 7 bits a byte, the ninth byte whole).
type varintReader struct {
	b   []byte
	i   int
	err error
}

func (r *varintReader) next() uint64 {
	var v uint64
	for k := 0; k < 9; k++ {
		if r.i >= len(r.b) {
			r.err = errors.New("structure record truncated")
			return 0
		}
		c := r.b[r.i]
		r.i++
		if k == 8 {
			return v<<8 | uint64(c)
		}
		v = v<<7 | uint64(c&0x7f)
		if c < 0x80 {
			return v
		}
	}
	return v
}

// putVarint appends v as a SQLite varint.
func putVarint(b []byte, v uint64) []byte {
	if v > 1<<56-1 {
		var buf [9]byte
		buf[8] = byte(v)
		v >>= 8
		for k := 7; k >= 0; k-- {
			buf[k] = byte(v&0x7f) | 0x80
			v >>= 7
		}
		return append(b, buf[:]...)
	}
	var buf [8]byte
	n := 0
	for {
		buf[n] = byte(v & 0x7f)
		n++
		v >>= 7
		if v == 0 {
			break
		}
	}
	for k := n - 1; k >= 0; k-- {
		c := buf[k]
		if k > 0 {
			c |= 0x80
		}
		b = append(b, c)
	}
	return b
}
