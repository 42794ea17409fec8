package jsonx

import "strconv"

// PathAt returns the JSON path ("meterValue[0].vendorX") of the object key
// whose opening quote is at byte offset off of the JSON text s, or "" if no
// key starts there. It rescans s from the start and is meant for rare, slow
// paths (unknown-property reporting).
func PathAt(s string, off int) string {
	d := Decoder{s: s}
	p, _ := d.pathWalk(off, "")
	return p
}

func joinKey(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

func (d *Decoder) pathWalk(off int, prefix string) (string, bool) {
	d.ws()
	if d.i >= len(d.s) || d.i > off {
		return "", false
	}
	switch d.s[d.i] {
	case '{':
		if d.BeginObject() != nil {
			return "", false
		}
		for first := true; ; first = false {
			d.ws()
			if !first && d.i < len(d.s) && d.s[d.i] == ',' {
				d.i++
				d.ws()
			}
			at := d.i
			if !first {
				// ObjectKey expects to see the ',' itself; we consumed it.
				first = true
			}
			key, more, err := d.ObjectKey(first)
			if err != nil || !more {
				return "", false
			}
			if at == off {
				return joinKey(prefix, key), true
			}
			if p, ok := d.pathWalk(off, joinKey(prefix, key)); ok {
				return p, true
			}
			if d.i > off {
				return "", false
			}
		}
	case '[':
		if d.BeginArray() != nil {
			return "", false
		}
		for k := 0; ; k++ {
			more, err := d.ArrayNext(k == 0)
			if err != nil || !more {
				return "", false
			}
			if p, ok := d.pathWalk(off, prefix+"["+strconv.Itoa(k)+"]"); ok {
				return p, true
			}
			if d.i > off {
				return "", false
			}
		}
	}
	if d.Skip() != nil {
		return "", false
	}
	return "", false
}
