# MicroPython's ports/qemu firmware for QEMU's mps2-an521 machine (ARM SSE-200,
# two Cortex-M33), with this project frozen in. One board folder builds both
# cores' firmware: AN521_CORE=0 (the default, booted with -kernel) or
# AN521_CORE=1 (loaded with -device loader, released by core 0). Each core
# has its own code, RAM, heap, stack and UART, so the two MicroPython
# instances share nothing but the SRAM the rings live in. Built by
# tools/qemu.py (facts: README, "Emulated dual-core board").
QEMU_ARCH = arm
QEMU_MACHINE = mps2-an521
AN521_CORE ?= 0

# QEMU gives CPU 0 of the SSE-200 neither FPU nor DSP: code for
# cortex-m33 with -mfloat-abi=hard or DSP instructions faults there.
# ports/qemu assembles gchelper with AFLAGS, which must name the same CPU or
# the link fails ("conflicting CPU architectures").
CFLAGS += -mthumb -mcpu=cortex-m33+nodsp -mfloat-abi=soft
AFLAGS += -mthumb -mcpu=cortex-m33+nodsp -mfloat-abi=soft
# No QEMU_SOC_* that ports/qemu knows: its uart.c then compiles to nothing
# (it would drive 0x40004000, which is MHU1 on this machine) and uart_an521.c
# below provides the UART, on a different one per core.
CFLAGS += -DQEMU_SOC_AN521 -DAN521_CORE=$(AN521_CORE)
CFLAGS += -DMICROPY_HW_MCU_NAME='"Cortex-M33 core $(AN521_CORE)"'
SRC_C += $(BOARD_DIR)/uart_an521.c

LDSCRIPT = $(BOARD_DIR)/core$(AN521_CORE).ld
SRC_BOARD_O = shared/runtime/gchelper_native.o shared/runtime/gchelper_thumb2.o
MICROPY_HEAP_SIZE = 262144

# ARMv8-M Mainline runs ARMv7-M code; frozen viper code is compiled for it.
MPY_CROSS_FLAGS += -march=armv7m
FROZEN_MANIFEST ?= $(BOARD_DIR)/manifest.py
LDFLAGS += -L$(BOARD_DIR)
