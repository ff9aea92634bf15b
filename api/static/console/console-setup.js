// Progressive enhancement for the Set-up page: a chosen file is read into the text area
// (without JavaScript the file is pasted there), and nothing is sent until the organiser
// presses "Check the changes".
const holder = document.querySelector("[data-file-reader]");
const upload = document.getElementById("upload");
const area = document.getElementById("file");
if (holder && upload && area && window.FileReader) {
  holder.hidden = false;
  upload.addEventListener("change", async () => {
    const file = upload.files && upload.files[0];
    if (file) area.value = await file.text();
  });
}
