// fleet Linux guest init: PID 1 of the initramfs (images/linux/README.md).
//
// Mounts proc, sysfs and devtmpfs, loads the modules listed in
// /lib/modules/load, opens the virtio-serial ports fleet.{stdin,stdout,
// stderr,ctl}, reads the exec block, mounts the 9p shares where the block
// says, configures the network interfaces the block names (net.c),
// writes "ready" on ctl, runs the program the block names with
// stdin/stdout/stderr on the ports (or on a pseudo-terminal that init
// relays to and from them, when the block asks for one), writes
// "exit N" on ctl and ends the VM through isa-debug-exit. The ACPI power
// button (fleet-vmm stop) sends the program SIGTERM (SIGKILL after a grace
// period), then init writes "exit 0" and powers off through ACPI S5.
//
// Built static with -O2 and nothing from the project's flags (meson.build).
// One file of ~600 lines on purpose: PID 1's steps share the port fds, the
// exec block and the one stop sequence, and read best in boot order; the
// part that stands alone (the network, net.c) has its own file.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/input.h>
#include <linux/random.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <fleet/abi/guest.h>

#include "bridge.h"
#include "net.h"

#define MAX_SHARES    FLEET_MAX_SHARES
#define MAX_INPUTS    16
#define PORT_WAIT_MS  10000  // how long the virtio ports may take to appear
#define STOP_GRACE_MS 3000   // SIGTERM -> SIGKILL on a power button press
#define DRAIN_WAIT_MS FLEET_DRAIN_WAIT_MS

static const char* const port_names[4] = {FLEET_PORT_STDIN, FLEET_PORT_STDOUT, FLEET_PORT_STDERR, FLEET_PORT_CTL};
enum { P_IN, P_OUT, P_ERR, P_CTL };
static int port_fd[4] = {-1, -1, -1, -1};

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

// Diagnostics: on the stderr port once it is open, else on the console.
static void say(const char* fmt, ...)
{
    char buf[512];
    int n = snprintf(buf, sizeof buf, "fleet-init: ");
    va_list ap;
    va_start(ap, fmt);
    n += vsnprintf(buf + n, sizeof buf - n, fmt, ap);
    va_end(ap);
    if (n > (int)sizeof buf - 2) n = sizeof buf - 2;
    buf[n++] = '\n';
    int fd = port_fd[P_ERR] >= 0 ? port_fd[P_ERR] : 2;
    (void)!write(fd, buf, n);
}

static void write_all(int fd, const char* s, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, s, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return;
        s += w;
        n -= (size_t)w;
    }
}

static void ctl_line(const char* line)
{
    if (port_fd[P_CTL] >= 0) write_all(port_fd[P_CTL], line, strlen(line));
}

// The fast way out: isa-debug-exit at 0xf4 (QEMU exits at once with
// (status << 1) | 1; the launcher takes the status from the ctl line).
// fleet.drain=1 on the command line: after "exit N" the host wants to see
// the rest of stdout/stderr first (data the program wrote can still sit in the
// ports' virtqueues; the guest cannot tell when QEMU has taken it). Wait until
// the host writes a line (or closes) on ctl, at most DRAIN_WAIT_MS.
static bool drain_wanted;
static bool hypervisor_wanted;                            // FLEET_CMDLINE_HYPERVISOR: wait for the ports, bridge them
static char hypervisor_dev[FLEET_HYPERVISOR_PORTS][300];  // their devices, /dev/vportNpM

// Lines from the host on ctl, after the exec block: "drained", "signal N".
static char ctl_buf[FLEET_CTL_LINE_MAX];
static size_t ctl_len;

// Reads what ctl has (it is readable); calls on_line for each whole line.
// False when the host closed it.
static bool read_ctl_lines(void (*on_line)(const char* line))
{
    char buf[256];
    ssize_t n = read(port_fd[P_CTL], buf, sizeof buf);
    if (n <= 0) return false;
    for (ssize_t i = 0; i < n; ++i) {
        if (buf[i] != '\n') {
            if (ctl_len < sizeof ctl_buf - 1) ctl_buf[ctl_len++] = buf[i];
            continue;
        }
        ctl_buf[ctl_len] = 0;
        ctl_len = 0;
        on_line(ctl_buf);
    }
    return true;
}

static bool drained;
static void on_drain_line(const char* line)
{
    if (strcmp(line, FLEET_CTL_DRAINED) == 0) drained = true;
}

static void wait_for_host(void)
{
    if (!drain_wanted || port_fd[P_CTL] < 0) return;
    long long deadline = now_ms() + DRAIN_WAIT_MS;
    while (!drained) {
        long long left = deadline - now_ms();
        if (left <= 0) return;
        struct pollfd p = {.fd = port_fd[P_CTL], .events = POLLIN};
        if (poll(&p, 1, (int)left) <= 0) return;
        if (!read_ctl_lines(on_drain_line)) return;
    }
}

static void __attribute__((noreturn)) vm_exit(int status)
{
    if (ioperm(FLEET_DEBUG_EXIT_PORT, FLEET_DEBUG_EXIT_SIZE, 1) == 0) outl((unsigned)status, FLEET_DEBUG_EXIT_PORT);
    reboot(RB_POWER_OFF);
    for (;;) pause();
}

static void __attribute__((noreturn)) vm_poweroff(void)
{
    reboot(RB_POWER_OFF);  // ACPI S5: QEMU reports a guest shutdown
    vm_exit(0);
}

static void __attribute__((noreturn)) finish(int status, bool poweroff);

static void __attribute__((noreturn)) fatal(int status, const char* fmt, ...)
{
    char buf[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    say("%s", buf);
    finish(status, false);
}

static void mkdirs(const char* path)
{
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s", path);
    for (char* s = p + 1; *s; ++s) {
        if (*s != '/') continue;
        *s = 0;
        mkdir(p, 0755);
        *s = '/';
    }
    mkdir(p, 0755);
}

static void mount_basics(void)
{
    mkdirs("/proc");
    mkdirs("/sys");
    mkdirs("/dev");
    mkdirs("/tmp");
    if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) != 0) say("mount /proc: %m");
    if (mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) != 0) say("mount /sys: %m");
    if (mount("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755") != 0) say("mount /dev: %m");
    mkdirs("/dev/pts");
    mkdirs("/dev/shm");
    mount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "gid=5,mode=0620,ptmxmode=0666");
    mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
    (void)!symlink("/proc/self/fd", "/dev/fd");
    (void)!symlink("/proc/self/fd/0", "/dev/stdin");
    (void)!symlink("/proc/self/fd/1", "/dev/stdout");
    (void)!symlink("/proc/self/fd/2", "/dev/stderr");
}

// /lib/modules/load: "GROUP FILE" lines, dependencies first (written by
// mkinitramfs for kernels that have virtio, virtio-console or 9p as modules).
// Group "boot" is loaded always, "share" only when there are shared folders.
static void load_modules(const char* group)
{
    FILE* f = fopen("/lib/modules/load", "re");
    if (!f) return;
    char line[256];
    size_t glen = strlen(group);
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = 0;
        if (strncmp(line, group, glen) != 0 || line[glen] != ' ') continue;
        char path[300];
        snprintf(path, sizeof path, "/lib/modules/%s", line + glen + 1);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            say("module %s: %m", path);
            continue;
        }
        if (syscall(SYS_finit_module, fd, "", 0) != 0 && errno != EEXIST) say("module %s: %m", path);
        close(fd);
    }
    fclose(f);
}

static char cmdline[4096];

static void read_cmdline(void)
{
    int fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    ssize_t n = read(fd, cmdline, sizeof cmdline - 1);
    close(fd);
    if (n < 0) n = 0;
    cmdline[n] = 0;
}

// Words of the kernel command line (the launcher rejects white space inside
// arguments, so splitting on it is exact; quotes are kept as they are).
static int split_words(char* s, char** words, int max)
{
    int n = 0;
    for (char* tok = strtok(s, " \t\n"); tok && n < max; tok = strtok(NULL, " \t\n")) words[n++] = tok;
    return n;
}

struct share {
    char* path;  // in the exec block's strings
    bool rw;
};

static int read_port_name(const char* dev, char* name, size_t size)
{
    char path[300];
    snprintf(path, sizeof path, "/sys/class/virtio-ports/%s/name", dev);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    ssize_t n = read(fd, name, size - 1);
    close(fd);
    if (n <= 0) return -1;
    name[n] = 0;
    name[strcspn(name, "\n")] = 0;
    return 0;
}

// The hypervisor channel's port index of a port name: FLEET_PORT_HYPERVISOR
// is 0, FLEET_PORT_HYPERVISOR ".N" is N; -1 for any other name.
static int hypervisor_port_index(const char* name)
{
    size_t n = strlen(FLEET_PORT_HYPERVISOR);
    if (strncmp(name, FLEET_PORT_HYPERVISOR, n) != 0) return -1;
    if (name[n] == 0) return 0;
    if (name[n] != '.' || name[n + 1] < '1' || name[n + 1] > '9' || name[n + 2]) return -1;
    int i = name[n + 1] - '0';
    return i < FLEET_HYPERVISOR_PORTS ? i : -1;
}

// Find /sys/class/virtio-ports/vportNpM whose name is fleet.*, open /dev/vportNpM.
// Ports show up asynchronously (the host announces them on the control queue).
static void open_ports(void)
{
    long long deadline = now_ms() + PORT_WAIT_MS;
    int delay = 1;
    for (;;) {
        DIR* d = opendir("/sys/class/virtio-ports");
        if (d) {
            struct dirent* e;
            while ((e = readdir(d))) {
                if (e->d_name[0] == '.') continue;
                char name[64];
                if (read_port_name(e->d_name, name, sizeof name) != 0) continue;
                int hv = hypervisor_port_index(name);
                if (hypervisor_wanted && hv >= 0)
                    snprintf(hypervisor_dev[hv], sizeof hypervisor_dev[hv], "/dev/%s", e->d_name);
                for (int i = 0; i < 4; ++i) {
                    if (port_fd[i] >= 0 || strcmp(name, port_names[i]) != 0) continue;
                    char dev[300];
                    snprintf(dev, sizeof dev, "/dev/%s", e->d_name);
                    int mode = i == P_IN ? O_RDONLY : i == P_CTL ? O_RDWR : O_WRONLY;
                    port_fd[i] = open(dev, mode | O_CLOEXEC | O_NOCTTY);
                }
            }
            closedir(d);
        }
        bool all = true;
        for (int i = 0; hypervisor_wanted && i < FLEET_HYPERVISOR_PORTS; ++i) all = all && hypervisor_dev[i][0];
        for (int i = 0; i < 4; ++i) all = all && port_fd[i] >= 0;
        if (all) return;
        if (now_ms() > deadline) {
            char missing[128] = "";
            for (int i = 0; i < 4; ++i)
                if (port_fd[i] < 0) strcat(strcat(missing, " "), port_names[i]);
            for (int i = 0; hypervisor_wanted && i < FLEET_HYPERVISOR_PORTS; ++i)
                if (!hypervisor_dev[i][0]) {
                    strcat(missing, " " FLEET_PORT_HYPERVISOR "...");
                    break;
                }
            // Without ctl there is no "ready": the launcher's boot timeout reports it.
            fatal(125, "virtio ports not found:%s (is this a stdio=virtio launch, with virtio-console?)", missing);
        }
        sleep_ms(delay);
        if (delay < 20) delay *= 2;
    }
}

static void mount_shares(const struct share* shares, int nshares)
{
    if (nshares > 0) load_modules("share");
    for (int i = 0; i < nshares; ++i) {
        char tag[32];
        snprintf(tag, sizeof tag, FLEET_SHARE_TAG "%d", i);
        mkdirs(shares[i].path);
        unsigned long flags = shares[i].rw ? 0 : MS_RDONLY;
        const char* opts = "trans=virtio,version=9p2000.L,msize=262144";
        long long deadline = now_ms() + 3000;
        int rc;
        while ((rc = mount(tag, shares[i].path, "9p", flags, opts)) != 0 && errno == ENOENT && now_ms() < deadline)
            sleep_ms(5);
        if (rc != 0) fatal(125, "cannot mount shared folder %s on %s: %m", tag, shares[i].path);
    }
}

// Power button: the ACPI button driver reports KEY_POWER on an evdev device.
static int input_fd[MAX_INPUTS];
static int n_inputs;

static void open_power_buttons(void)
{
    DIR* d = opendir("/dev/input");
    if (!d) return;
    struct dirent* e;
    while ((e = readdir(d)) && n_inputs < MAX_INPUTS) {
        if (strncmp(e->d_name, "event", 5) != 0) continue;
        char path[300];
        snprintf(path, sizeof path, "/dev/input/%s", e->d_name);
        int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0) continue;
        unsigned char keys[KEY_MAX / 8 + 1] = {0};
        if (ioctl(fd, EVIOCGBIT(EV_KEY, sizeof keys), keys) >= 0 && (keys[KEY_POWER / 8] & (1 << (KEY_POWER % 8))))
            input_fd[n_inputs++] = fd;
        else
            close(fd);
    }
    closedir(d);
}

static bool power_pressed(int fd)
{
    struct input_event ev[16];
    bool pressed = false;
    ssize_t n;
    while ((n = read(fd, ev, sizeof ev)) > 0)
        for (size_t i = 0; i < (size_t)n / sizeof ev[0]; ++i)
            if (ev[i].type == EV_KEY && ev[i].code == KEY_POWER && ev[i].value == 1) pressed = true;
    return pressed;
}

// The program's process group (it runs in its own session) and the
// program itself, in case it left its group.
static void signal_program(pid_t child, int sig)
{
    kill(-child, sig);
    kill(child, sig);
}

// The one way a run ends: "exit N" on ctl, shares written back, the host's
// "drained" (anything the program wrote may still sit in the ports'
// queues), then isa-debug-exit, or ACPI S5 when the power button stopped it.
static void __attribute__((noreturn)) finish(int status, bool poweroff)
{
    char line[32];
    snprintf(line, sizeof line, FLEET_CTL_EXIT " %d\n", status);
    ctl_line(line);
    sync();
    wait_for_host();
    if (poweroff) vm_poweroff();
    vm_exit(status);
}

// ---- the exec block (<fleet/abi/guest.h>): argv, environment, working folder
static struct fleet_exec_header hdr;
static char* strings;

static void read_exact(char* to, size_t n)
{
    while (n > 0) {
        ssize_t k = read(port_fd[P_CTL], to, n);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) fatal(FLEET_EXIT_BAD_EXEC, "bad exec block: truncated (the channel closed)");
        to += k;
        n -= (size_t)k;
    }
}

static void get_block(const char* cmdline)
{
    const char* enc = NULL;
    for (const char* p = cmdline; *p; p++)
        if ((p == cmdline || *(p - 1) == ' ') && strncmp(p, FLEET_CMDLINE_EXEC, strlen(FLEET_CMDLINE_EXEC)) == 0) {
            enc = p + strlen(FLEET_CMDLINE_EXEC);
            break;
        }
    if (enc) {  // a raw QEMU command line carries it
        size_t n = strcspn(enc, " \n");
        char* buf = malloc(n + 1);
        memcpy(buf, enc, n);
        long len = fleet_pct_decode(buf, n);
        if (len < (long)sizeof hdr) fatal(FLEET_EXIT_BAD_EXEC, "bad exec block: malformed on the command line");
        memcpy(&hdr, buf, sizeof hdr);
        const char* why = fleet_exec_check_header(&hdr);
        if (why) fatal(FLEET_EXIT_BAD_EXEC, "bad exec block: %s", why);
        if ((size_t)len != sizeof hdr + hdr.size) fatal(FLEET_EXIT_BAD_EXEC, "bad exec block: truncated");
        if (hdr.flags & FLEET_EXEC_F_REHEARSE)
            fatal(FLEET_EXIT_BAD_EXEC, "bad exec block: a rehearsal on the command line");
        strings = buf + sizeof hdr;
    } else {
        ctl_line(FLEET_CTL_WAITING "\n");
        uint32_t magic = 0;
        for (unsigned skipped = 0; magic != FLEET_EXEC_MAGIC; skipped++) {
            if (skipped > FLEET_EXEC_SKIP_MAX + 3) fatal(FLEET_EXIT_BAD_EXEC, "bad exec block: bad magic");
            char c;
            read_exact(&c, 1);
            magic = (magic >> 8) | ((uint32_t)(unsigned char)c << 24);
        }
        hdr.magic = magic;
        read_exact((char*)&hdr + 4, sizeof hdr - 4);
        const char* why = fleet_exec_check_header(&hdr);
        if (why) fatal(FLEET_EXIT_BAD_EXEC, "bad exec block: %s", why);
        strings = malloc(hdr.size);
        if (!strings) fatal(FLEET_EXIT_BAD_EXEC, "bad exec block: no memory for it");
        read_exact(strings, hdr.size);
    }
    const char* why = fleet_exec_check_strings(&hdr, strings);
    if (why) fatal(FLEET_EXIT_BAD_EXEC, "bad exec block: %s", why);
}

// The block's host trailer (FLEET_EXEC_F_HOST): a guest restored from a
// snapshot shares its RNG state and its clock with every other restore of
// it, so the seed goes into the kernel's pool, the RNG is reseeded from it
// at once, and the clock is set to the host's.
static void apply_host_trailer(void)
{
    if (!(hdr.flags & FLEET_EXEC_F_HOST)) return;
    struct fleet_exec_host host;
    memcpy(&host, strings + fleet_exec_host_offset(&hdr), sizeof host);
    struct {
        int entropy_count, buf_size;
        uint8_t buf[FLEET_EXEC_SEED_SIZE];
    } seed = {FLEET_EXEC_SEED_SIZE * 8, FLEET_EXEC_SEED_SIZE, {0}};
    memcpy(seed.buf, host.seed, sizeof seed.buf);
    int fd = open("/dev/urandom", O_RDWR | O_CLOEXEC);
    if (fd < 0 || ioctl(fd, RNDADDENTROPY, &seed) != 0 || ioctl(fd, RNDRESEEDCRNG) != 0)
        fatal(FLEET_EXIT_BAD_EXEC, "cannot seed the RNG: %m");
    close(fd);
    struct timespec now = {(time_t)(host.realtime_ns / 1000000000u), (long)(host.realtime_ns % 1000000000u)};
    if (clock_settime(CLOCK_REALTIME, &now) != 0) fatal(FLEET_EXIT_BAD_EXEC, "cannot set the clock: %m");
}

// ---- the program's terminal (FLEET_EXEC_F_TTY): a pseudo-terminal whose
// master init relays: fleet.stdin to it, it to fleet.stdout. init keeps
// the terminal itself open too, so the master never reads a hangup (while
// the program opens it, or after it has closed it) and a reader sees the
// program's last output after it ends. Nothing blocks PID 1: the master
// and both ports are non-blocking, each direction has one buffer, and a
// full side is waited for with poll.
static int tty_master = -1, tty_held = -1;
static char tty_name[64];
static bool tty_stderr;
static char tty_in[4096], tty_out[4096];  // port -> master, master -> port
static size_t tty_in_len, tty_in_off, tty_out_len, tty_out_off;
static bool tty_in_open = true;

static void open_terminal(void)
{
    if (!(hdr.flags & FLEET_EXEC_F_TTY)) return;
    struct fleet_exec_tty t = fleet_exec_tty_of(&hdr, strings);
    tty_master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (tty_master < 0 || grantpt(tty_master) != 0 || unlockpt(tty_master) != 0 ||
        ptsname_r(tty_master, tty_name, sizeof tty_name) != 0)
        fatal(125, "cannot open a terminal for the program: %m");
    tty_held = open(tty_name, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (tty_held < 0) fatal(125, "cannot open the program's terminal %s: %m", tty_name);
    struct winsize ws = {.ws_row = t.rows, .ws_col = t.cols};
    ioctl(tty_master, TIOCSWINSZ, &ws);
    tty_stderr = t.flags & FLEET_TTY_STDERR;
    int relayed[] = {tty_master, port_fd[P_IN], port_fd[P_OUT]};
    for (size_t i = 0; i < sizeof relayed / sizeof relayed[0]; ++i)
        fcntl(relayed[i], F_SETFL, fcntl(relayed[i], F_GETFL) | O_NONBLOCK);
}

// In the program's process, a session leader: the terminal becomes its
// controlling terminal and its stdin and stdout (and stderr).
static void enter_terminal(void)
{
    int fd = open(tty_name, O_RDWR);
    if (fd < 0 || ioctl(fd, TIOCSCTTY, 0) != 0) {
        say("cannot take the terminal %s: %m", tty_name);
        _exit(125);
    }
    dup2(fd, 0);
    dup2(fd, 1);
    dup2(tty_stderr ? fd : port_fd[P_ERR], 2);
    if (fd > 2) close(fd);
}

// The host's stdin ended: the terminal's end-of-file key, once, as a user
// at a keyboard would type it.
static void terminal_input_ended(void)
{
    tty_in_open = false;
    struct termios tio;
    if (tcgetattr(tty_held, &tio) == 0 && tio.c_cc[VEOF]) (void)!write(tty_master, &tio.c_cc[VEOF], 1);
}

// What to wait for: r[0] stdin port, r[1] master, r[2] stdout port.
static void terminal_poll(struct pollfd* r)
{
    bool reading_in = tty_in_open && tty_in_len == 0;
    r[0] = (struct pollfd){.fd = reading_in ? port_fd[P_IN] : -1, .events = POLLIN};
    r[1] = (struct pollfd){.fd = tty_master,
                           .events = (short)((tty_out_len == 0 ? POLLIN : 0) | (tty_in_len ? POLLOUT : 0))};
    r[2] = (struct pollfd){.fd = tty_out_len ? port_fd[P_OUT] : -1, .events = POLLOUT};
}

// One step each way, as far as it goes without blocking.
static void terminal_relay(const struct pollfd* r)
{
    if (tty_in_open && tty_in_len == 0 && (r[0].revents & (POLLIN | POLLHUP | POLLERR))) {
        ssize_t n = read(port_fd[P_IN], tty_in, sizeof tty_in);
        if (n > 0) {
            tty_in_len = (size_t)n;
            tty_in_off = 0;
        } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
            terminal_input_ended();
        }
    }
    if (tty_in_len) {
        ssize_t n = write(tty_master, tty_in + tty_in_off, tty_in_len - tty_in_off);
        if (n > 0 && (tty_in_off += (size_t)n) == tty_in_len) tty_in_len = tty_in_off = 0;
    }
    if (tty_out_len == 0 && (r[1].revents & POLLIN)) {
        ssize_t n = read(tty_master, tty_out, sizeof tty_out);
        if (n > 0) {
            tty_out_len = (size_t)n;
            tty_out_off = 0;
        }
    }
    if (tty_out_len) {
        ssize_t n = write(port_fd[P_OUT], tty_out + tty_out_off, tty_out_len - tty_out_off);
        if (n > 0 && (tty_out_off += (size_t)n) == tty_out_len) tty_out_len = tty_out_off = 0;
        if (n < 0 && errno != EAGAIN && errno != EINTR) tty_out_len = tty_out_off = 0;  // nobody to take it
        if (r[2].revents & (POLLHUP | POLLERR)) tty_out_len = tty_out_off = 0;
    }
}

// After the program: what it wrote last, still in the terminal, to the
// stdout port (waiting at most DRAIN_WAIT_MS for the host to take it).
static void drain_terminal(void)
{
    if (tty_master < 0) return;
    long long deadline = now_ms() + DRAIN_WAIT_MS;
    for (;;) {
        if (tty_out_len == 0) {
            ssize_t n = read(tty_master, tty_out, sizeof tty_out);  // non-blocking: EAGAIN once it is empty
            if (n <= 0) return;
            tty_out_len = (size_t)n;
            tty_out_off = 0;
        }
        ssize_t n = write(port_fd[P_OUT], tty_out + tty_out_off, tty_out_len - tty_out_off);
        if (n > 0) {
            if ((tty_out_off += (size_t)n) == tty_out_len) tty_out_len = tty_out_off = 0;
            continue;
        }
        long long left = deadline - now_ms();
        if ((n < 0 && errno != EAGAIN && errno != EINTR) || left <= 0) return;
        struct pollfd p = {.fd = port_fd[P_OUT], .events = POLLOUT};
        if (poll(&p, 1, (int)left) <= 0 || (p.revents & (POLLHUP | POLLERR))) return;
    }
}

static void resize_terminal(const char* args)
{
    int rows = 0, cols = 0;
    if (tty_master < 0 || sscanf(args, "%d %d", &rows, &cols) != 2) return;
    if (rows < 1 || rows > FLEET_TTY_MAX || cols < 1 || cols > FLEET_TTY_MAX) return;
    struct winsize old = {0}, ws = {.ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols};
    int same = ioctl(tty_master, TIOCGWINSZ, &old) == 0 && old.ws_row == ws.ws_row && old.ws_col == ws.ws_col;
    ioctl(tty_master, TIOCSWINSZ, &ws);  // a new size: the foreground group gets SIGWINCH
    // The same size: the host asks the program to redraw (it was paused,
    // and the host's screen has been the shell's meanwhile).
    pid_t fg = tcgetpgrp(tty_master);
    if (same && fg > 0) kill(-fg, SIGWINCH);
}

static pid_t program;
static void on_program_line(const char* line)
{
    static const char word[] = FLEET_CTL_SIGNAL " ", winsize[] = FLEET_CTL_WINSIZE " ";
    if (strncmp(line, winsize, sizeof winsize - 1) == 0) return resize_terminal(line + sizeof winsize - 1);
    if (strncmp(line, word, sizeof word - 1) != 0) return;
    int sig = atoi(line + sizeof word - 1);
    if (sig >= 1 && sig <= FLEET_SIGNAL_MAX && program > 0) signal_program(program, sig);
}

/* The words of the command line init acts on: the drain request and the
 * hypervisor channel. */
static void parse_words(char** words, int nwords)
{
    for (int i = 0; i < nwords; ++i) {
        if (strcmp(words[i], FLEET_CMDLINE_DRAIN) == 0) drain_wanted = true;
        if (strcmp(words[i], FLEET_CMDLINE_HYPERVISOR) == 0) hypervisor_wanted = true;
    }
}

/* The shares' mount points, after the working folder in the exec block
 * ("PATH" or "PATH:rw"; fleet_exec_check_strings has seen that each is
 * absolute). Share i is the device tagged FLEET_SHARE_TAG "i". Returns
 * where the shares end: the network interfaces follow. */
static char* shares_from_block(struct share* shares)
{
    char* s = strings;
    for (uint32_t i = 0; i < hdr.argc + hdr.envc + 1; ++i) s += strlen(s) + 1;
    for (uint32_t i = 0; i < hdr.sharec; ++i) {
        size_t len = strlen(s);
        shares[i].path = s;
        shares[i].rw = len > 3 && strcmp(s + len - 3, FLEET_SHARE_RW) == 0;
        if (shares[i].rw) s[len - 3] = 0;
        s += len + 1;
    }
    return s;
}

/* The network interfaces, from where the shares end. */
static void nets_from_block(char* s, char** nets)
{
    for (uint32_t i = 0; i < hdr.netc; ++i, s += strlen(s) + 1) nets[i] = s;
}

/* argv and the environment from the exec block (fleet's defaults first),
 * and the working folder entered: the host's, else the first share, else /. */
static char** program_args(const struct share* shares, int nshares)
{
    char** args = calloc(hdr.argc + 1, sizeof *args);
    char* s = strings;
    clearenv();
    setenv("PATH", "/bin:/sbin:/usr/bin:/usr/sbin", 1);
    setenv("HOME", "/root", 1);
    setenv("SHELL", "/bin/sh", 1);
    setenv("USER", "root", 1);
    for (uint32_t i = 0; i < hdr.argc + hdr.envc; ++i, s += strlen(s) + 1) {
        if (i < hdr.argc)
            args[i] = s;
        else
            putenv(s);
    }
    const char* workdir = s;
    if (!*workdir && nshares > 0) workdir = shares[0].path;
    if (!*workdir) workdir = "/";
    if (hdr.argc == 0) fatal(127, "no program given (the image and the command name none)");
    if (chdir(workdir) != 0) fatal(FLEET_EXIT_BAD_EXEC, "cannot enter the working folder %s: %m", workdir);
    return args;
}

/* The program, in a session of its own, on the stdio ports; or, given a
 * null_fd (a rehearsal), on that. */
static pid_t start_program(char** args, int null_fd)
{
    // vfork: the child borrows init's memory until it execs, so nothing of
    // init's is copied (its page tables, then its pages on write). Under
    // TCG each kernel path a start takes is translated again after a
    // snapshot's restore; fork's were 16% of it (docs/cold-path.md). The
    // child only makes system calls and formats on its own stack.
    pid_t child = vfork();
    if (child < 0) fatal(125, "fork: %m");
    if (child == 0) {
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        setsid();
        if (null_fd >= 0)
            for (int i = 0; i < 3; ++i) dup2(null_fd, i);
        else if (tty_master >= 0)
            enter_terminal();
        else
            for (int i = 0; i < 3; ++i) dup2(port_fd[i], i);
        execvp(args[0], args);
        int err = errno;
        char msg[400];
        int n = snprintf(msg, sizeof msg, "%s: %s\n", args[0], err == ENOENT ? "not found" : strerror(err));
        write_all(2, msg, (size_t)n);
        _exit(err == ENOENT ? 127 : 126);
    }
    if (tty_master < 0 && null_fd < 0) close(port_fd[P_IN]);  // the program's alone; with a terminal, init relays it
    return child;
}

/* Until the program ends: host signal lines, SIGTERM/SIGPWR and the power
 * button (TERM, then KILL after the grace), reaping every orphan. Returns
 * its status; *stopped says whether a stop ended it. */
static int wait_program(pid_t child, int sfd, bool* stopped)
{
    int status = -1;
    bool stopping = false, ctl_open = true;
    long long kill_at = 0;
    while (status < 0) {
        struct pollfd pfd[MAX_INPUTS + 5];
        pfd[0] = (struct pollfd){.fd = sfd, .events = POLLIN};
        for (int i = 0; i < n_inputs; ++i) pfd[i + 1] = (struct pollfd){.fd = input_fd[i], .events = POLLIN};
        pfd[n_inputs + 1] = (struct pollfd){.fd = ctl_open ? port_fd[P_CTL] : -1, .events = POLLIN};
        struct pollfd* relay = &pfd[n_inputs + 2];
        nfds_t nfds = (nfds_t)n_inputs + 2;
        if (tty_master >= 0) {
            terminal_poll(relay);
            nfds += 3;
        }
        int timeout = -1;
        if (stopping) {
            long long left = kill_at - now_ms();
            timeout = left < 0 ? 0 : (int)left;
        }
        poll(pfd, nfds, timeout);  // on an error every revents stays 0
        // "signal N" from the host (fleet-vmm kill -s, Ctrl-C, the router's shutdown), "winsize R C".
        if (pfd[n_inputs + 1].revents & (POLLIN | POLLHUP)) ctl_open = read_ctl_lines(on_program_line);
        if (tty_master >= 0) terminal_relay(relay);

        bool stop = false;
        struct signalfd_siginfo si;
        while (read(sfd, &si, sizeof si) == sizeof si)
            if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGPWR) stop = true;  // e.g. ctrl-alt-del
        for (int i = 0; i < n_inputs; ++i)
            if ((pfd[i + 1].revents & POLLIN) && power_pressed(input_fd[i])) stop = true;
        if (stop && !stopping) {
            stopping = true;
            kill_at = now_ms() + STOP_GRACE_MS;
            signal_program(child, SIGTERM);
        }
        // Reap everything (PID 1 adopts orphans); stop at the program's end.
        int st;
        pid_t p;
        while ((p = waitpid(-1, &st, WNOHANG)) > 0)
            if (p == child) status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        if (status < 0 && stopping && now_ms() >= kill_at) {
            signal_program(child, SIGKILL);
            kill_at = now_ms() + 1000;
        }
    }
    *stopped = stopping;
    return status > 255 ? 255 : status;
}

/* A rehearsal block (FLEET_EXEC_F_REHEARSE): what a start does up to its
 * program's end (the trailer is applied already), with the program on
 * /dev/null and nothing said on ctl, so that TCG has translated those
 * code paths before a real block comes. Its status is of no interest. */
static void rehearse(int sfd)
{
    if (hdr.sharec || hdr.netc || (hdr.flags & FLEET_EXEC_F_TTY))
        fatal(FLEET_EXIT_BAD_EXEC, "bad exec block: a rehearsal with shares, interfaces or a terminal");
    char** args = program_args(NULL, 0);
    int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null_fd < 0) fatal(125, "cannot open /dev/null: %m");
    pid_t child = start_program(args, null_fd);
    close(null_fd);
    bool stopped = false;
    wait_program(child, sfd, &stopped);
    if (stopped) finish(0, true);  // the power button, pressed meanwhile: a guest shutdown
    free(args);
    free(strings);
    strings = NULL;
}

int main(void)
{
    sigset_t all;
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, NULL);  // PID 1: signals only through the signalfd

    mount_basics();
    load_modules("boot");
    read_cmdline();

    static char words_buf[sizeof cmdline];
    memcpy(words_buf, cmdline, sizeof cmdline);
    static char* words[1024];
    int nwords = split_words(words_buf, words, 1024);
    parse_words(words, nwords);

    open_ports();
    // Before the exec block, so that a snapshot (taken while init waits
    // for it) holds them: a restored guest does not run these paths again.
    open_power_buttons();
    int sfd = signalfd(-1, &all, SFD_CLOEXEC | SFD_NONBLOCK);
    for (;;) {  // rehearsals (a warm pool's, under TCG), then the program's block
        get_block(cmdline);
        apply_host_trailer();
        if (!(hdr.flags & FLEET_EXEC_F_REHEARSE)) break;
        rehearse(sfd);
    }
    struct share shares[MAX_SHARES] = {{0}};
    int nshares = (int)hdr.sharec;
    char* nets[FLEET_MAX_NETS];
    int nnets = (int)hdr.netc;
    nets_from_block(shares_from_block(shares), nets);
    mount_shares(shares, nshares);
    if (nnets > 0) {
        load_modules("net");
        const char* net_error = configure_nets(nets, nnets, PORT_WAIT_MS);
        if (net_error) fatal(125, "%s", net_error);
    }
    char** args = program_args(shares, nshares);
    open_terminal();

    // The channel's socket is there before the program starts.
    const char* hv_devs[FLEET_HYPERVISOR_PORTS];
    for (int i = 0; i < FLEET_HYPERVISOR_PORTS; ++i) hv_devs[i] = hypervisor_dev[i];
    if (hypervisor_wanted && hypervisor_bridge_start(hv_devs, FLEET_HYPERVISOR_PORTS, port_fd, 4) < 0)
        fatal(125, "cannot start the hypervisor channel's bridge: %m");
    ctl_line(FLEET_CTL_READY "\n");
    program = start_program(args, -1);
    bool stopped = false;
    int status = wait_program(program, sfd, &stopped);
    drain_terminal();
    // Stopped by the power button: a guest shutdown, as the tiny guests do.
    finish(stopped ? 0 : status, stopped);
}
