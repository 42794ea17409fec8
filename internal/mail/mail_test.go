package mail

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"strings"
	"testing"
	"time"
)

func TestComposeParses(t *testing.T) {
	raw, err := Compose("NextCharge <receipts@nextcharge.example>", Message{To: "d@example.com", Subject: "Your receipt — $11.00",
		Text: "Thanks.\nTotal $11.00", HTML: "<p>Thanks</p>", Attachments: []Attachment{{Name: "receipt-K7QM-4XPD.pdf", ContentType: "application/pdf", Data: bytes.Repeat([]byte("%PDF"), 100)}}},
		time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	dec := new(mime.WordDecoder)
	if subj, _ := dec.DecodeHeader(msg.Header.Get("Subject")); subj != "Your receipt — $11.00" {
		t.Errorf("subject %q", subj)
	}
	_, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	r := multipart.NewReader(msg.Body, params["boundary"])
	var parts []string
	for {
		p, err := r.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(p)
		parts = append(parts, p.Header.Get("Content-Type")+" "+p.FileName()+" "+string(b[:min(len(b), 20)]))
	}
	if len(parts) != 2 || !strings.Contains(parts[0], "multipart/alternative") || !strings.Contains(parts[1], "receipt-K7QM-4XPD.pdf") {
		t.Fatalf("parts: %q", parts)
	}
}

func TestLogMailer(t *testing.T) {
	var l LogMailer
	if err := l.Send(context.Background(), Message{To: "not an address"}); !errors.Is(err, ErrBadAddress) {
		t.Fatalf("bad address: %v", err)
	}
	if err := l.Send(context.Background(), Message{To: "d@example.com", Subject: "x"}); err != nil || len(l.Sent()) != 1 {
		t.Fatalf("sent: %v %d", err, len(l.Sent()))
	}
}
