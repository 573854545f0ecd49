package files

import (
	"bytes"
	"context"
	"image"
	"image/color"
	_ "image/gif" // decoders for DecodeConfig and Decode
	_ "image/jpeg"
	"image/png"
	"io"
)

// ThumbSize is the longest side of a thumbnail, in pixels.
const ThumbSize = 160

type thumbnail struct {
	png  []byte
	w, h int
}

// imageSize reads only an image's header: its width and height, without decoding the
// pixels (so a 50,000 × 50,000 PNG costs nothing to look at).
func imageSize(r io.Reader) (int, int, error) {
	cfg, _, err := image.DecodeConfig(r)
	return cfg.Width, cfg.Height, err
}

// makeThumbnail decodes an image already checked to be within MaxPixels and scales it
// down to ThumbSize. Decodes run two at a time; one that takes longer than
// ThumbTimeout is abandoned (no thumbnail; the decode finishes in the background, its
// cost bounded by the pixel limit).
func (s *Service) makeThumbnail(ctx context.Context, r io.Reader, ct string) *thumbnail {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.ThumbTimeout)
	defer cancel()
	select {
	case s.thumbs <- struct{}{}:
	case <-ctx.Done():
		return nil
	}
	done := make(chan *thumbnail, 1)
	go func() {
		defer func() { <-s.thumbs }()
		defer func() {
			if recover() != nil { // a decoder's panic on a hostile file costs the thumbnail only
				done <- nil
			}
		}()
		done <- Thumbnail(r)
	}()
	select {
	case t := <-done:
		return t
	case <-ctx.Done():
		s.log.Warn("thumbnail took too long; none made", "limit", s.cfg.ThumbTimeout, "type", ct)
		return nil
	}
}

// Thumbnail decodes an image and returns a PNG at most ThumbSize on its longer side
// (nil when it cannot be decoded). Each thumbnail pixel averages a 4 × 4 grid of
// samples of its area of the image, which is cheap whatever the image's size.
func Thumbnail(r io.Reader) *thumbnail {
	src, _, err := image.Decode(r)
	if err != nil {
		return nil
	}
	b := src.Bounds()
	sw, sh := b.Dx(), b.Dy()
	if sw == 0 || sh == 0 {
		return nil
	}
	w, h := sw, sh
	if w > ThumbSize || h > ThumbSize {
		if w >= h {
			w, h = ThumbSize, max(1, sh*ThumbSize/sw)
		} else {
			w, h = max(1, sw*ThumbSize/sh), ThumbSize
		}
	}
	dst := image.NewNRGBA(image.Rect(0, 0, w, h))
	const k = 4
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			var r, g, bl, a uint32
			for j := 0; j < k; j++ {
				sy := b.Min.Y + (y*k+j)*sh/(h*k)
				for i := 0; i < k; i++ {
					sx := b.Min.X + (x*k+i)*sw/(w*k)
					cr, cg, cb, ca := src.At(sx, sy).RGBA()
					r, g, bl, a = r+cr, g+cg, bl+cb, a+ca
				}
			}
			n := uint32(k * k)
			// Averaged premultiplied values, back to non-premultiplied 8-bit.
			c := color.RGBA64{R: uint16(r / n), G: uint16(g / n), B: uint16(bl / n), A: uint16(a / n)}
			dst.Set(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, dst); err != nil {
		return nil
	}
	return &thumbnail{png: buf.Bytes(), w: w, h: h}
}
