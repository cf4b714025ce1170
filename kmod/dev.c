// SPDX-License-Identifier: GPL-2.0
/*
 * kvm-mmu-ext: the /dev/kvm-mmu-ext misc device.
 */
#include <linux/fs.h>
#include <linux/miscdevice.h>

#include "kvm_mmu_ext.h"
#include "vm.h"

static long kmx_dev_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	switch (cmd) {
	case KMX_GET_API_VERSION:
		return arg ? -EINVAL : KMX_API_VERSION;
	case KMX_ATTACH:
		return kmx_attach((const struct kmx_attach __user *)arg);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations kmx_dev_fops = {
	.owner		= THIS_MODULE,
	.unlocked_ioctl	= kmx_dev_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

static struct miscdevice kmx_miscdev = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "kvm-mmu-ext",
	.fops	= &kmx_dev_fops,
	.mode	= 0600,
};

int kmx_dev_init(void)
{
	return misc_register(&kmx_miscdev);
}

void kmx_dev_exit(void)
{
	misc_deregister(&kmx_miscdev);
}
