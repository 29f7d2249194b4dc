/*
 * uart.h - a polled driver for the 16550A UART at COM1 (0x3f8), the one
 * minivm emulates in lab 04. "Polled": it never uses interrupts, it reads
 * the line status register (LSR) until the UART is ready. Register names
 * are those of <linux/serial_reg.h>, as in Linux's 8250 driver.
 */
#ifndef GUEST_UART_H
#define GUEST_UART_H

#include <linux/serial_reg.h>
#include <stdint.h>

#define COM1 0x3f8

/* 115200 baud, 8 data bits, no parity, 1 stop bit, FIFOs on. */
void uart_init(void);
/* Send one byte: wait for LSR.THRE, then write THR. */
void uart_putc(char c);
void uart_puts(const char *s);
/* Receive one byte: wait for LSR.DR, then read RBR. */
char uart_getc(void);

#endif
