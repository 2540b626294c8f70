"""A slow MTA for the Dovecot integration tests: LMTP deliveries that
pause between an accepted RCPT and DATA (a slow link, a large message).

    slowlmtp.py PORT USER PAUSE STOPFILE LOG [PREFIX]

Delivers one message after another until STOPFILE exists: LHLO, MAIL,
RCPT, then PAUSE seconds, then DATA. Logs "ack ID" for every message
answered 250 after DATA, "tempfail ID WHERE CODE TEXT" for every 4xx (at
RCPT or after DATA) and then retries the same message, as an MTA does,
after 0.1 to 0.5 s; between messages it waits 0 to 1 s; "permfail ..." for a 5xx, and stops. It gives up retrying
(logs "gaveup ID", exits 1) once STOPFILE.giveup exists.
"""
import os
import random
import smtplib
import socket
import sys
import time

HOST = "127.0.0.1"


def message(user, mid):
    return ("From: slow@example.org\r\nTo: %s\r\nMessage-ID: <%s>\r\n"
            "Subject: %s\r\n\r\nbody of %s\r\n" % (user, mid, mid, mid))


def log_line(log, text):
    log.write("%.3f %s\n" % (time.time(), text))
    log.flush()


def one(port, user, mid, pause, log):
    """One try: 'ack', 'temp' or 'perm'."""
    try:
        l = smtplib.LMTP(HOST, int(port))
        l.ehlo_or_helo_if_needed()
        code, text = l.mail("slow@example.org")
        if code != 250:
            log_line(log, "tempfail %s mail %d %s" % (mid, code,
                                                     text.decode()))
            l.close()
            return "temp"
        code, text = l.rcpt(user)
        if code != 250:
            what = "perm" if code >= 500 else "temp"
            log_line(log, "%sfail %s rcpt %d %s" % (what, mid, code,
                                                   text.decode()))
            l.close()
            return what
        log_line(log, "rcpt %s" % mid)
        time.sleep(pause)
        code, text = l.data(message(user, mid))
        l.quit()
        if code != 250:
            what = "perm" if code >= 500 else "temp"
            log_line(log, "%sfail %s data %d %s" % (what, mid, code,
                                                   text.decode()))
            return what
    except smtplib.SMTPDataError as e:
        what = "perm" if e.smtp_code >= 500 else "temp"
        log_line(log, "%sfail %s data %d %s" % (what, mid, e.smtp_code,
                                               e.smtp_error.decode()))
        return what
    except (smtplib.SMTPException, OSError) as e:
        log_line(log, "tempfail %s conn %s" % (mid, e))
        return "temp"
    log_line(log, "ack %s" % mid)
    return "ack"


def main():
    socket.setdefaulttimeout(30)
    port, user, pause, stopfile, logfile = sys.argv[1:6]
    prefix = sys.argv[6] if len(sys.argv) > 6 else "slow"
    n = 0
    # Random gaps, so that the senders do not fall into step with the
    # locks and their transactions straddle every part of a cutover.
    rnd = random.Random(prefix)
    with open(logfile, "a") as log:
        while not os.path.exists(stopfile):
            time.sleep(rnd.uniform(0, 1))
            n += 1
            mid = "%s-%d@slow" % (prefix, n)
            while True:
                r = one(port, user, mid, float(pause), log)
                if r == "ack":
                    break
                if r == "perm":
                    sys.exit(1)
                if os.path.exists(stopfile + ".giveup"):
                    log_line(log, "gaveup %s" % mid)
                    sys.exit(1)
                time.sleep(rnd.uniform(0.1, 0.5))


if __name__ == "__main__":
    main()
