package ocppj

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// pipeSocket records what the Conn writes.
type pipeSocket struct {
	mu   sync.Mutex
	out  chan []byte
	fail error
}

func newPipe() *pipeSocket { return &pipeSocket{out: make(chan []byte, 64)} }

func (p *pipeSocket) Write(_ context.Context, msg []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fail != nil {
		return p.fail
	}
	p.out <- append([]byte(nil), msg...)
	return nil
}

func (p *pipeSocket) next(t *testing.T) Frame {
	t.Helper()
	select {
	case m := <-p.out:
		f, err := Parse(m)
		if err != nil {
			t.Fatalf("wrote an invalid frame %s: %v", m, err)
		}
		return f
	case <-time.After(5 * time.Second):
		t.Fatal("nothing written")
	}
	return Frame{}
}

func (p *pipeSocket) none(t *testing.T) {
	t.Helper()
	select {
	case m := <-p.out:
		t.Fatalf("unexpected write %s", m)
	default:
	}
}

type handlerFunc func(ctx context.Context, action string, payload []byte, dst []byte) ([]byte, error)

func (h handlerFunc) HandleCall(ctx context.Context, action string, payload []byte, dst []byte) ([]byte, error) {
	return h(ctx, action, payload, dst)
}

func echoHandler() Handler {
	return handlerFunc(func(_ context.Context, action string, payload []byte, dst []byte) ([]byte, error) {
		switch action {
		case "Heartbeat":
			return append(dst, `{"currentTime":"2026-01-01T00:00:00.000Z"}`...), nil
		case "Broken":
			return nil, errors.New("database exploded with secret details")
		case "Picky":
			return nil, Errorf(PropertyConstraintViolation, "status: bad value")
		case "Empty":
			return dst, nil
		}
		return nil, Errorf(NotImplemented, "unknown action %q", action)
	})
}

func TestConnAnswersCalls(t *testing.T) {
	sock := newPipe()
	c := NewConn(sock, Options{Dialect: Dialect16, Handler: echoHandler()})
	ctx := context.Background()

	c.HandleMessage(ctx, []byte(`[2,"h1","Heartbeat",{}]`))
	f := sock.next(t)
	if f.Type != TypeCallResult || f.ID != "h1" || !strings.Contains(string(f.Payload), "currentTime") {
		t.Fatalf("got %+v", f)
	}

	c.HandleMessage(ctx, []byte(`[2,"e1","Empty",{}]`))
	if f := sock.next(t); f.Type != TypeCallResult || string(f.Payload) != "{}" {
		t.Fatalf("empty response: %+v", f)
	}

	c.HandleMessage(ctx, []byte(`[2,"u1","FooBar",{}]`))
	if f := sock.next(t); f.Type != TypeCallError || f.ID != "u1" || f.ErrorCode != "NotImplemented" {
		t.Fatalf("unknown action: %+v", f)
	}

	c.HandleMessage(ctx, []byte(`[2,"b1","Broken",{}]`))
	if f := sock.next(t); f.ErrorCode != "InternalError" || strings.Contains(f.ErrorDescription, "secret") {
		t.Fatalf("internal errors must not leak: %+v", f)
	}

	c.HandleMessage(ctx, []byte(`[2,"p1","Picky",{}]`))
	if f := sock.next(t); f.ErrorCode != "PropertyConstraintViolation" {
		t.Fatalf("got %+v", f)
	}
}

func TestConnBadFrames(t *testing.T) {
	tests := []struct {
		name    string
		dialect *Dialect
		in      string
		wantID  string
		code    string // "" = no answer
	}{
		{"1.6 garbage", Dialect16, `nonsense`, "-1", "FormationViolation"},
		{"2.0.1 garbage", Dialect201, `nonsense`, "-1", "FormatViolation"},
		{"1.6 bad payload json", Dialect16, `[2,"9","Heartbeat",{"x":]`, "9", "FormationViolation"},
		{"2.0.1 bad payload json", Dialect201, `[2,"9","Heartbeat",{"x":]`, "9", "FormatViolation"},
		{"1.6 payload not object", Dialect16, `[2,"9","Heartbeat",[1]]`, "9", "FormationViolation"},
		{"1.6 id unreadable", Dialect16, `[2,9,"Heartbeat",{}]`, "-1", "ProtocolError"},
		{"2.0.1 id unreadable", Dialect201, `[2,9,"Heartbeat",{}]`, "-1", "RpcFrameworkError"},
		{"2.0.1 missing action", Dialect201, `[2,"9"]`, "9", "RpcFrameworkError"},
		{"1.6 unknown type ignored", Dialect16, `[7,"9","X",{}]`, "", ""},
		{"2.0.1 unknown type", Dialect201, `[7,"9","X",{}]`, "9", "MessageTypeNotSupported"},
		{"2.0.1 SEND unknown", Dialect201, `[6,"9","X",{}]`, "9", "MessageTypeNotSupported"},
		{"1.6 CALLRESULTERROR unknown ignored", Dialect16, `[5,"9","GenericError","",{}]`, "", ""},
		{"broken result not answered", Dialect201, `[3,"9",{]`, "", ""},
		{"unexpected result ignored", Dialect16, `[3,"nope",{}]`, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sock := newPipe()
			c := NewConn(sock, Options{Dialect: tt.dialect, Handler: echoHandler()})
			if err := c.HandleMessage(context.Background(), []byte(tt.in)); err != nil {
				t.Fatal(err)
			}
			if tt.code == "" {
				sock.none(t)
				return
			}
			f := sock.next(t)
			if f.Type != TypeCallError || f.ID != tt.wantID || f.ErrorCode != tt.code {
				t.Fatalf("got %+v, want id %q code %s", f, tt.wantID, tt.code)
			}
		})
	}
}

func TestConnCallsAreSerialised(t *testing.T) {
	sock := newPipe()
	c := NewConn(sock, Options{Dialect: Dialect16, Handler: echoHandler()})
	ctx := context.Background()

	type res struct {
		r   Result
		err error
	}
	results := make([]chan res, 3)
	for i := range results {
		results[i] = make(chan res, 1)
		go func() {
			r, err := c.Call(ctx, "Reset", []byte(`{"type":"Soft"}`))
			results[i] <- res{r, err}
		}()
		// The first call goes out at once; the others wait their turn.
		if i == 0 {
			sock.next(t)
		}
	}
	time.Sleep(20 * time.Millisecond)
	sock.none(t) // only one CALL outstanding
	if c.Pending() != 3 {
		t.Fatalf("pending = %d", c.Pending())
	}

	// Answer whatever is outstanding, three times; each answer releases the next call.
	c.mu.Lock()
	id := c.pending.id
	c.mu.Unlock()
	c.HandleMessage(ctx, []byte(`[3,"`+id+`",{"status":"Accepted"}]`))
	for range 2 {
		f := sock.next(t)
		if f.Type != TypeCall || f.Action != "Reset" {
			t.Fatalf("got %+v", f)
		}
		c.HandleMessage(ctx, []byte(`[4,"`+f.ID+`","NotSupported","no",{}]`))
	}
	var ok, rejected int
	for _, ch := range results {
		r := <-ch
		var ce *CallError
		switch {
		case r.err == nil && string(r.r.Payload) == `{"status":"Accepted"}`:
			ok++
		case errors.As(r.err, &ce) && ce.Code == NotSupported && ce.Description == "no":
			rejected++
		default:
			t.Fatalf("unexpected result %+v %v", r.r, r.err)
		}
	}
	if ok != 1 || rejected != 2 || c.Pending() != 0 {
		t.Fatalf("ok=%d rejected=%d pending=%d", ok, rejected, c.Pending())
	}
}

func TestConnCrossingCalls(t *testing.T) {
	// Our CALL is outstanding when the peer's CALL arrives: we must answer
	// the peer's CALL at once, then still accept the answer to ours.
	sock := newPipe()
	c := NewConn(sock, Options{Dialect: Dialect16, Handler: echoHandler()})
	ctx := context.Background()
	done := make(chan error, 1)
	go func() {
		_, err := c.Call(ctx, "GetConfiguration", []byte(`{}`))
		done <- err
	}()
	ours := sock.next(t)
	c.HandleMessage(ctx, []byte(`[2,"theirs","Heartbeat",{}]`))
	if f := sock.next(t); f.Type != TypeCallResult || f.ID != "theirs" {
		t.Fatalf("peer's call not answered: %+v", f)
	}
	c.HandleMessage(ctx, []byte(`[3,"`+ours.ID+`",{"configurationKey":[]}]`))
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestConnCallTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sock := newPipe()
		c := NewConn(sock, Options{Dialect: Dialect16, Handler: echoHandler(), CallTimeout: 10 * time.Second})
		ctx := context.Background()
		errs := make(chan error, 2)
		go func() { _, err := c.Call(ctx, "Reset", []byte(`{"type":"Hard"}`)); errs <- err }()
		synctest.Wait()
		first := <-sock.out
		go func() { _, err := c.Call(ctx, "ClearCache", nil); errs <- err }()
		synctest.Wait()
		if len(sock.out) != 0 {
			t.Fatal("second call sent while the first is outstanding")
		}
		time.Sleep(10*time.Second + time.Millisecond)
		synctest.Wait()
		if err := <-errs; !errors.Is(err, ErrTimeout) {
			t.Fatalf("want timeout, got %v", err)
		}
		// The timeout releases the queue.
		second := <-sock.out
		f, _ := Parse(second)
		if f.Action != "ClearCache" {
			t.Fatalf("got %s", second)
		}
		// A late answer to the first call is ignored, not mistaken for the second's.
		ff, _ := Parse(first)
		c.HandleMessage(ctx, []byte(`[3,"`+ff.ID+`",{"status":"Accepted"}]`))
		if c.Pending() != 1 {
			t.Fatal("late answer completed the wrong call")
		}
		c.HandleMessage(ctx, []byte(`[3,"`+f.ID+`",{"status":"Accepted"}]`))
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	})
}

func TestConnCallerGivesUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sock := newPipe()
		c := NewConn(sock, Options{Dialect: Dialect16, Handler: echoHandler(), CallTimeout: time.Minute})
		go c.Call(context.Background(), "Reset", []byte(`{"type":"Hard"}`))
		synctest.Wait()
		<-sock.out
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_, err := c.Call(ctx, "ClearCache", nil)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("got %v", err)
		}
		if c.Pending() != 1 {
			t.Fatalf("abandoned queued call must leave the queue; pending=%d", c.Pending())
		}
		c.Close()
		synctest.Wait()
	})
}

func TestConnClose(t *testing.T) {
	sock := newPipe()
	c := NewConn(sock, Options{Dialect: Dialect16, Handler: echoHandler()})
	errs := make(chan error, 2)
	for range 2 {
		go func() { _, err := c.Call(context.Background(), "Reset", []byte(`{"type":"Hard"}`)); errs <- err }()
	}
	sock.next(t)
	for c.Pending() != 2 {
		time.Sleep(time.Millisecond)
	}
	c.Close()
	for range 2 {
		if err := <-errs; !errors.Is(err, ErrClosed) {
			t.Fatalf("got %v", err)
		}
	}
	if _, err := c.Call(context.Background(), "Reset", nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("call after close: %v", err)
	}
}

func TestConnWriteFailureFailsCall(t *testing.T) {
	sock := newPipe()
	sock.fail = errors.New("broken pipe")
	c := NewConn(sock, Options{Dialect: Dialect16, Handler: echoHandler()})
	_, err := c.Call(context.Background(), "Reset", nil)
	if err == nil || !strings.Contains(err.Error(), "broken pipe") {
		t.Fatalf("got %v", err)
	}
	if c.Pending() != 0 {
		t.Fatal("failed call still pending")
	}
}

func TestConnSend(t *testing.T) {
	sock := newPipe()
	c := NewConn(sock, Options{Dialect: Dialect16, Handler: echoHandler()})
	if err := c.Send(context.Background(), "NotifyPeriodicEventStream", []byte(`{}`)); err == nil {
		t.Fatal("SEND must not exist in 1.6")
	}
	c21 := NewConn(sock, Options{Dialect: Dialect21, Handler: echoHandler()})
	if err := c21.Send(context.Background(), "NotifyPeriodicEventStream", []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	if f := sock.next(t); f.Type != TypeSend {
		t.Fatalf("got %+v", f)
	}
	// A received SEND is handled and never answered.
	c21.HandleMessage(context.Background(), []byte(`[6,"s1","Heartbeat",{}]`))
	sock.none(t)
}

func TestConnCallerGivesUpOnCallOnTheWire(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sock := newPipe()
		c := NewConn(sock, Options{Dialect: Dialect16, Handler: echoHandler(), CallTimeout: time.Minute})
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_, err := c.Call(ctx, "Reset", []byte(`{"type":"Hard"}`))
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("got %v", err)
		}
		first, _ := Parse(<-sock.out)
		if c.Pending() != 1 {
			t.Fatal("a call on the wire must stay pending after its caller gave up")
		}
		next := make(chan error, 1)
		go func() { _, err := c.Call(context.Background(), "ClearCache", nil); next <- err }()
		synctest.Wait()
		if len(sock.out) != 0 {
			t.Fatal("second call sent while the abandoned one is outstanding")
		}
		c.HandleMessage(context.Background(), []byte(`[3,"`+first.ID+`",{"status":"Accepted"}]`))
		synctest.Wait()
		second, _ := Parse(<-sock.out)
		c.HandleMessage(context.Background(), []byte(`[3,"`+second.ID+`",{"status":"Accepted"}]`))
		if err := <-next; err != nil {
			t.Fatal(err)
		}
	})
}
