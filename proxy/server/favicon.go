package server

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/png"
)

// defaultFavicon is served when the web directory has no favicon.ico, so a browser's automatic request never
// shows a 404 in the console: a 16×16 ICO holding one PNG (a plain blue square).
var defaultFavicon = func() *asset {
	img := image.NewRGBA(image.Rect(0, 0, 16, 16))
	for y := 0; y < 16; y++ {
		for x := 0; x < 16; x++ {
			img.Set(x, y, color.RGBA{R: 0x1f, G: 0x5f, B: 0xbf, A: 0xff})
		}
	}
	var p bytes.Buffer
	_ = png.Encode(&p, img)
	var b bytes.Buffer
	_ = binary.Write(&b, binary.LittleEndian, []uint16{0, 1, 1})             // ICONDIR: reserved, type icon, one image
	b.Write([]byte{16, 16, 0, 0})                                            // width, height, palette, reserved
	_ = binary.Write(&b, binary.LittleEndian, []uint16{1, 32})               // planes, bits per pixel
	_ = binary.Write(&b, binary.LittleEndian, []uint32{uint32(p.Len()), 22}) // size, offset
	b.Write(p.Bytes())
	return newAsset(b.Bytes())
}()
