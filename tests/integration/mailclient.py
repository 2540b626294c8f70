"""IMAP and LMTP clients for the Dovecot integration tests.

    mailclient.py list PORT USER PASS         every message: folder,
                                              UIDVALIDITY, UID, Message-ID
    mailclient.py login PORT USER PASS        the server's answer to LOGIN
    mailclient.py timed-login PORT USER PASS [N]
                                              N logins in a row (default
                                              1), each on a new
                                              connection: "SECS ANSWER"
                                              per login, SECS from
                                              connect to LOGIN's answer
    mailclient.py create PORT USER PASS NAME  a folder (NAME in modified
                                              UTF-7) with one message
    mailclient.py lmtp PORT USER ID           one delivery: its reply code
    mailclient.py append-loop PORT USER PASS STOPFILE LOG
    mailclient.py lmtp-loop PORT USER STOPFILE LOG
    mailclient.py wait-kick PORT USER PASS LOG

The loops run until STOPFILE exists, one message about every 50 ms, each
with a unique Message-ID. They log "ack ID" for every message the server
acknowledged and "tempfail ..." for every temporary failure; after a
failure they wait and retry the same message. An IMAP APPEND whose answer
was lost is looked up by Message-ID before it is sent again, as careful
clients do, so a message is never stored twice.
"""
import imaplib
import os
import smtplib
import socket
import sys
import time

HOST = "127.0.0.1"


def message(user, mid):
    return ("From: loop@example.org\r\nTo: %s\r\nMessage-ID: <%s>\r\n"
            "Subject: %s\r\n\r\nbody of %s\r\n" % (user, mid, mid, mid))


def connect(port, user, password):
    m = imaplib.IMAP4(HOST, port)
    m.sock.settimeout(10)
    m.login(user, password)
    return m


def folders(m):
    typ, boxes = m.list()
    out = []
    for b in boxes:
        name = b.decode().split(' "." ', 1)[-1].strip('"')
        out.append(name)
    return sorted(out)


def cmd_list(port, user, password):
    m = connect(int(port), user, password)
    for name in folders(m):
        typ, data = m.select('"%s"' % name, readonly=True)
        if typ != "OK":
            sys.exit("cannot select %s: %s" % (name, data))
        uv = m.response("UIDVALIDITY")[1][0].decode()
        typ, data = m.uid("FETCH", "1:*",
                          "(UID BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
        for x in data:
            if not isinstance(x, tuple):
                continue
            head = x[0].decode()
            uid = head.split("UID ", 1)[1].split()[0].rstrip(")")
            mid = x[1].decode().strip().split(":", 1)[-1].strip()
            print(name, uv, uid, mid)
    m.logout()


def cmd_login(port, user, password):
    try:
        m = connect(int(port), user, password)
    except imaplib.IMAP4.error as e:
        print("NO", e.args[0].decode() if isinstance(e.args[0], bytes)
              else e.args[0])
        return
    print("OK")
    m.logout()


def cmd_timed_login(port, user, password, count="1"):
    for _ in range(int(count)):
        t0 = time.monotonic()
        try:
            m = connect(int(port), user, password)
            answer = "OK"
        except imaplib.IMAP4.error as e:
            m = None
            answer = "NO " + (e.args[0].decode() if isinstance(
                e.args[0], bytes) else e.args[0])
        secs = time.monotonic() - t0
        print("%.3f %s" % (secs, answer), flush=True)
        if m is not None:
            m.logout()


def cmd_create(port, user, password, name):
    m = connect(int(port), user, password)
    typ, data = m.create('"%s"' % name)
    if typ != "OK":
        sys.exit("CREATE %s: %s" % (name, data))
    typ, data = m.append('"%s"' % name, None, None,
                         message(user, "in-%s@folder" % name).encode())
    if typ != "OK":
        sys.exit("APPEND %s: %s" % (name, data))
    m.logout()


def cmd_lmtp(port, user, mid):
    l = smtplib.LMTP(HOST, int(port))
    try:
        l.sendmail("loop@example.org", [user], message(user, mid))
        print(250)
    except smtplib.SMTPRecipientsRefused as e:
        print(e.recipients[user][0], e.recipients[user][1].decode())
    l.quit()


def logline(log, text):
    log.write(text + "\n")
    log.flush()


def stored(port, user, password, mid):
    """Is a message with this Message-ID in the INBOX? None: cannot tell."""
    try:
        m = connect(port, user, password)
        m.select("INBOX", readonly=True)
        typ, data = m.search(None, "HEADER", "Message-ID", mid)
        m.logout()
        return bool(data[0].split())
    except (imaplib.IMAP4.error, OSError):
        return None


def cmd_append_loop(port, user, password, stopfile, logfile):
    port = int(port)
    n = 0
    with open(logfile, "a") as log:
        while not os.path.exists(stopfile):
            n += 1
            mid = "imap-%d@loop" % n
            unsure = False
            while True:
                if unsure:
                    have = stored(port, user, password, mid)
                    if have:
                        logline(log, "ack %s (found after a lost answer)"
                                % mid)
                        break
                    if have is None:
                        time.sleep(0.1)
                        continue
                try:
                    m = connect(port, user, password)
                except imaplib.IMAP4.error as e:
                    logline(log, "tempfail login %s" % e)
                    time.sleep(0.1)
                    continue
                except OSError as e:
                    logline(log, "tempfail connect %s" % e)
                    time.sleep(0.1)
                    continue
                try:
                    unsure = True
                    typ, data = m.append("INBOX", None, None,
                                         message(user, mid).encode())
                    if typ == "OK":
                        logline(log, "ack %s" % mid)
                        m.logout()
                        break
                    logline(log, "tempfail append %s" % data)
                except (imaplib.IMAP4.abort, imaplib.IMAP4.error,
                        OSError) as e:
                    logline(log, "tempfail append %s" % e)
                time.sleep(0.1)
            time.sleep(0.05)


def cmd_lmtp_loop(port, user, stopfile, logfile):
    n = 0
    with open(logfile, "a") as log:
        while not os.path.exists(stopfile):
            n += 1
            mid = "lmtp-%d@loop" % n
            while True:
                try:
                    l = smtplib.LMTP(HOST, int(port))
                    l.sendmail("loop@example.org", [user],
                               message(user, mid))
                    l.quit()
                    logline(log, "ack %s" % mid)
                    break
                except smtplib.SMTPRecipientsRefused as e:
                    code, text = e.recipients[user]
                    if code >= 500:
                        logline(log, "permfail %s %d %s" % (mid, code,
                                                          text.decode()))
                        sys.exit(1)
                    logline(log, "tempfail %s %d %s" % (mid, code,
                                                      text.decode()))
                except (smtplib.SMTPException, OSError) as e:
                    logline(log, "tempfail %s %s" % (mid, e))
                time.sleep(0.1)
            time.sleep(0.05)


def cmd_wait_kick(port, user, password, logfile):
    """Log in and wait; when the server ends the session, log in again
    (retrying temporary failures) and count the INBOX."""
    port = int(port)
    with open(logfile, "a") as log:
        m = connect(port, user, password)
        m.select("INBOX")
        logline(log, "connected")
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                m.noop()
            except (imaplib.IMAP4.abort, OSError) as e:
                logline(log, "disconnected %s" % e)
                break
            time.sleep(0.1)
        else:
            logline(log, "never disconnected")
            sys.exit(1)
        while time.time() < deadline:
            try:
                m = connect(port, user, password)
                break
            except imaplib.IMAP4.error as e:
                logline(log, "tempfail login %s" % e)
                time.sleep(0.2)
        typ, data = m.select("INBOX", readonly=True)
        logline(log, "reconnected INBOX %s" % data[0].decode())
        m.logout()


def main():
    socket.setdefaulttimeout(10)
    cmd, args = sys.argv[1], sys.argv[2:]
    {"list": cmd_list, "login": cmd_login, "timed-login": cmd_timed_login,
     "lmtp": cmd_lmtp,
     "create": cmd_create,
     "append-loop": cmd_append_loop, "lmtp-loop": cmd_lmtp_loop,
     "wait-kick": cmd_wait_kick}[cmd](*args)


if __name__ == "__main__":
    main()
