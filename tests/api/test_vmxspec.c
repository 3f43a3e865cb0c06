/* test_vmxspec.c -- the vmxSpec grammar (access/vmxspec.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "access/vmref.h"
#include "access/vmxspec.h"

static void good_forms(void **state)
{
  struct vmxspec s;
  char why[256];

  (void)state;
  assert_true(vmxspec_parse("moref=vm-42", &s, why, sizeof why));
  assert_int_equal(s.kind, VMXSPEC_MOREF);
  assert_string_equal(s.moref, "vm-42");
  assert_true(vmxspec_parse("moid=vm-7", &s, why, sizeof why));
  assert_string_equal(s.moref, "vm-7");
  assert_true(vmxspec_parse("vm=moref=vm-1001", &s, why, sizeof why));
  assert_string_equal(s.moref, "vm-1001");
  assert_true(vmxspec_parse("DC0_H0_VM0/DC0_H0_VM0.vmx?dcPath=DC0&dsName=LocalDS_0",
                            &s, why, sizeof why));
  assert_int_equal(s.kind, VMXSPEC_PATH);
  assert_string_equal(s.path, "DC0_H0_VM0/DC0_H0_VM0.vmx");
  assert_string_equal(s.dc_path, "DC0");
  assert_string_equal(s.ds_name, "LocalDS_0");
  assert_true(vmxspec_parse("my%20vm/my%20vm.vmx?dsName=ds%201&dcPath=Folder/DC",
                            &s, why, sizeof why));
  assert_string_equal(s.path, "my vm/my vm.vmx");
  assert_string_equal(s.ds_name, "ds 1");
  assert_string_equal(s.dc_path, "Folder/DC");
}

static void bad_forms(void **state)
{
  static const char *const bad[] = {
    "", "moref=", "moref=vm 42", "moref=vm-42&x", "moid=<vm>",
    "vm.vmx", "vm.vmx?dcPath=DC", "vm.vmx?dsName=DS", "?dcPath=DC&dsName=DS",
    "vm.vmx?dcPath=&dsName=DS", "vm.vmx?dcPath=DC&dsName=DS&x=1",
    "vm.vmx?dcPath=DC&dcPath=DC2&dsName=DS", "vm.vmx?dcPath=D%zzC&dsName=DS",
    "vm.vmx?dcPath=D%00C&dsName=DS", "vm.vmx?dcPath=DC&dsName=DS%4",
    "vm.txt?dcPath=DC&dsName=DS", "vm\xC3.vmx?dcPath=DC&dsName=DS",
    "vm.vmx?dcPath", "vm.vmx?&dsName=DS",
    /* control characters, raw or escaped (found by fuzz_vmxspec) */
    "vm.vmx?dcPath=DC&dsName=L\x01", "vm.vmx?dcPath=DC&dsName=D%01S",
    "v\tm.vmx?dcPath=DC&dsName=DS", "vm.vmx?dcPath=D%7fC&dsName=DS",
  };
  struct vmxspec s;
  char why[256];

  (void)state;
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    why[0] = '\0';
    if (vmxspec_parse(bad[i], &s, why, sizeof why))
      fail_msg("accepted \"%s\"", bad[i]);
    assert_true(strlen(why) > 5);
  }
  assert_false(vmxspec_parse(NULL, &s, why, sizeof why));
}

/* How the command line reads a VM: vmxSpecs are passed on, the rest is a
 * bare moref, an inventory path or a name; bytes are checked first. */
static void operator_forms(void **state)
{
  static const struct {
    const char *s;
    enum vmref_kind kind;
  } cases[] = {
    {"moref=vm-42", VMREF_VMXSPEC}, {"moid=vm-42", VMREF_VMXSPEC},
    {"vm=moref=vm-42", VMREF_VMXSPEC},
    {"x/x.vmx?dcPath=DC&dsName=DS", VMREF_VMXSPEC},
    {"vm-42", VMREF_MOREF}, {"vm-", VMREF_NAME}, {"vm-42a", VMREF_NAME},
    {"VM-42", VMREF_NAME}, {"/DC0/vm/web%2f01", VMREF_PATH},
    {"web 01", VMREF_NAME}, {"db?", VMREF_NAME}, {"", VMREF_BAD},
    {"a\tb", VMREF_BAD}, {"a\x7f", VMREF_BAD}, {"\xff\xfe", VMREF_BAD},
  };

  (void)state;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    if (vmref_classify(cases[i].s) != cases[i].kind)
      fail_msg("\"%s\" classified %d, expected %d", cases[i].s,
               (int)vmref_classify(cases[i].s), (int)cases[i].kind);
  assert_int_equal(vmref_classify(NULL), VMREF_BAD);
}

static void very_long_spec(void **state)
{
  static char spec[5000];
  struct vmxspec s;
  char why[256];

  (void)state;
  memset(spec, 'a', sizeof spec - 1);
  memcpy(spec, "moref=", 6);
  assert_false(vmxspec_parse(spec, &s, why, sizeof why));
  assert_non_null(strstr(why, "longer"));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(good_forms),
    cmocka_unit_test(bad_forms),
    cmocka_unit_test(operator_forms),
    cmocka_unit_test(very_long_spec),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
