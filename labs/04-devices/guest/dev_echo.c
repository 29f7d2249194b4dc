/*
 * dev_echo.c - reads lines from the UART (minivm's stdin reaches its
 * receiver) and sends each back in upper case, until a line "quit".
 *
 *   printf 'hello\nquit\n' | build/labs/minivm run \
 *       build/labs/guest/dev_echo.bin --mode long
 */
#include "rt.h"
#include "uart.h"

#define LINE_MAX 80

/* One line without its end ("\n" or "\r\n"); a longer one comes in
 * pieces of LINE_MAX bytes. */
static size_t read_line(char *line)
{
    size_t n = 0;

    while (n < LINE_MAX) {
        char c = uart_getc();

        if (c == '\n')
            break;
        if (c != '\r')
            line[n++] = c;
    }
    return n;
}

int main(void)
{
    char line[LINE_MAX];

    uart_init();
    uart_puts("echo: type lines; \"quit\" ends\n");
    for (;;) {
        size_t n = read_line(line);

        if (n == 4 && !memcmp(line, "quit", 4))
            break;
        for (size_t i = 0; i < n; i++) {
            char c = line[i];

            uart_putc(c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c);
        }
        uart_putc('\n');
    }
    uart_puts("echo: bye\n");
    return 0;
}
